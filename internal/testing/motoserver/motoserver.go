// Package motoserver starts moto (an AWS API emulator, pinned in
// requirements-test.txt) in server mode on 127.0.0.1 for tests.
//
// A missing moto is an error carrying InstallHint, never a skip: a CI machine
// without it must fail rather than pass without testing.
package motoserver

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// InstallHint tells how to install the pinned moto.
const InstallHint = "moto is required for these tests: python3 -m pip install --no-compile -r requirements-test.txt (from the repository root)"

// Server is a running moto server.
type Server struct {
	// URL is the base URL, http://127.0.0.1:<port>.
	URL  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// client never uses an environment proxy: traffic stays on 127.0.0.1.
var client = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}

// Start runs `python3 -m moto.server` (or $PYTHON) on a free port of
// 127.0.0.1 and waits up to a minute until it answers.
func Start() (*Server, error) {
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.Command(py, "-c", "import moto.server, flask").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s\n%s: %v\n%s", InstallHint, py, err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &bytes.Buffer{}}
	s.cmd = exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", InstallHint, err)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("moto did not answer on %s within a minute; its output:\n%s", s.URL, s.logs.String())
}

// Reset forgets every resource.
func (s *Server) Reset() error {
	resp, err := client.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("resetting moto: %w", err)
	}
	resp.Body.Close()
	return nil
}

// Stop ends the server (its own process group only).
func (s *Server) Stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// RunMain is a TestMain body: it starts a server into *s, runs the
// package's tests, stops the server and exits with the tests' status. A
// server that does not start fails the whole package with its error.
func RunMain(m *testing.M, s **Server) {
	var err error
	*s, err = Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: starting moto:", err)
		os.Exit(1)
	}
	code := m.Run()
	(*s).Stop()
	os.Exit(code)
}
