package sweep

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The tests run the sweeper against moto in server mode (a real AWS API
// emulator: requests are signed, serialised and answered like the real
// services), pinned in requirements-test.txt at the repository root. A missing
// moto fails the tests with the install command: skipping would let CI pass
// without testing the sweeper.
const motoInstallHint = "moto is required for these tests: python3 -m pip install -r requirements-test.txt (from the repository root)"

const testRegion = "us-west-2"

// motoURL is the base URL of the moto server shared by the tests of this package.
var motoURL string

func TestMain(m *testing.M) {
	stop, err := startMoto()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: starting moto:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startMoto starts `python3 -m moto.server` on 127.0.0.1 on a free port and
// waits until it answers.
func startMoto() (stop func(), err error) {
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.Command(py, "-c", "import moto.server, flask").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s\n%s: %v\n%s", motoInstallHint, py, err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", motoInstallHint, err)
	}
	stop = func() {
		// Only the process group this harness started.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				motoURL = base
				return stop, nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("moto did not answer on %s within 60s; its output:\n%s", base, logs.String())
}

// resetMoto forgets every resource, so each test starts from an empty account.
func resetMoto(t *testing.T) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Post(motoURL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("resetting moto: %v", err)
	}
	resp.Body.Close()
}

// clients are SDK clients pointed at an endpoint on 127.0.0.1 with fake
// static credentials.
type clients struct {
	EC2 *ec2.Client
	ELB *elb.Client
	IAM *iam.Client
}

func newClients(t *testing.T, endpoint string) clients {
	t.Helper()
	cfg := aws.Config{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
		// Never an environment proxy: all traffic stays on 127.0.0.1.
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.Proxy = nil }),
		Retryer:    func() aws.Retryer { return NewRetryer(8, 200*time.Millisecond) },
	}
	return clients{EC2: ec2.NewFromConfig(cfg), ELB: elb.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)}
}

// newSweeper returns a sweeper of cluster using c, logging JSON into the test log.
func newSweeper(t *testing.T, c clients, cluster string) *Sweeper {
	t.Helper()
	s, err := New(Config{
		ClusterName:  cluster,
		Region:       testRegion,
		EC2:          c.EC2,
		ELB:          c.ELB,
		IAM:          c.IAM,
		Logger:       slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// fault decides whether the proxy answers a request itself. service is the
// signing name (ec2, elasticloadbalancing, iam), action the query Action.
type fault func(service, action string, n int) (code string, status int, inject bool)

// proxy is a reverse proxy in front of moto that can answer selected calls
// with an AWS error instead of forwarding them: throttling, transient
// NotFound, DependencyViolation, access denied.
type proxy struct {
	URL    string
	mu     sync.Mutex
	calls  map[string]int // service/action -> calls seen
	faults map[string]int // service/action -> faults injected
	fault  fault
}

var credentialScopeRE = regexp.MustCompile(`Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request`)

func newProxy(t *testing.T, f fault) *proxy {
	t.Helper()
	target, _ := url.Parse(motoURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{Proxy: nil}
	p := &proxy{calls: map[string]int{}, faults: map[string]int{}, fault: f}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		service := ""
		if m := credentialScopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			service = m[1]
		}
		key := service + "/" + action
		p.mu.Lock()
		p.calls[key]++
		n := p.calls[key]
		p.mu.Unlock()
		if code, status, ok := p.fault(service, action, n); ok {
			p.mu.Lock()
			p.faults[key]++
			p.mu.Unlock()
			writeAWSError(w, service, code, status)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *proxy) injected(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults[key]
}

// writeAWSError writes an error in the wire format of the service's protocol:
// ec2query for EC2, awsquery for ELBv2 and IAM.
func writeAWSError(w http.ResponseWriter, service, code string, status int) {
	msg := "injected by the test proxy"
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	if service == "ec2" {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>proxy</RequestID></Response>`, code, msg)
		return
	}
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>proxy</RequestId></ErrorResponse>`, code, msg)
}

// noFault forwards everything.
func noFault(string, string, int) (string, int, bool) { return "", 0, false }

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
