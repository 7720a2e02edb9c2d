package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// project is a throwaway copy of the repository's layout for app.sh: the
// script and the go.sh it sources, a go.mod and a main package small enough to build in a second, and
// a go wrapper first on PATH that logs every `go build`.
type project struct {
	dir, buildLog string
}

func newProject(t *testing.T) *project {
	t.Helper()
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	dir := t.TempDir()
	p := &project{dir: dir, buildLog: filepath.Join(dir, "..", filepath.Base(dir)+"-builds.log")}
	for _, name := range []string{"app.sh", "go.sh"} {
		script, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		p.write(t, "scripts/"+name, string(script))
		if err := os.Chmod(filepath.Join(dir, "scripts", name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.write(t, "go.mod", "module example.com/app\n\ngo 1.26\n")
	p.write(t, "main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(version) }\n")
	p.write(t, "version.go", "package main\n\nconst version = \"v1\"\n")
	for _, d := range []string{".cache", "cdk.out", "node_modules", "bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	wrapper := "#!/bin/sh\n[ \"$1\" = build ] && echo build >>" + p.buildLog + "\nexec " + realGo + " \"$@\"\n"
	p.write(t, "bin/go", wrapper)
	if err := os.Chmod(filepath.Join(dir, "bin/go"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Past app.sh's 50 ms margin for the kernel's coarse file clock: the
	// setup's writes are older than the first stamp.
	time.Sleep(100 * time.Millisecond)
	return p
}

func (p *project) write(t *testing.T, name, content string) {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs app.sh with env added and returns its stdout and stderr, whether
// it ran go build, and its error.
func (p *project) run(t *testing.T, env ...string) (out, errOut string, built bool, err error) {
	t.Helper()
	os.Remove(p.buildLog)
	cmd := exec.Command(filepath.Join(p.dir, "scripts/app.sh"))
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(p.dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOFLAGS=", "HYBRID_LLM_REBUILD=")
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	_, statErr := os.Stat(p.buildLog)
	return strings.TrimSpace(string(b)), stderr.String(), statErr == nil, err
}

// notice is what app.sh prints when a build is still running after
// APP_BUILD_NOTICE_SECONDS, so that a first build does not look hung.
const notice = "hybrid-llm-platform: compiling the Go app"

// TestAppBuildsOnlyWhenSourcesChange runs app.sh through a sequence of
// changes: each step says whether go build must run and what the app prints.
// The shortcut may only skip go build when nothing it reads can have changed.
func TestAppBuildsOnlyWhenSourcesChange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program several times")
	}
	p := newProject(t)
	steps := []struct {
		name    string
		change  func(t *testing.T)
		env     []string
		build   bool
		want    string
		wantErr bool
	}{
		{name: "first run builds, and says so while it does", env: []string{"APP_BUILD_NOTICE_SECONDS=0"}, build: true, want: "v1"},
		{name: "nothing changed: no build, no notice", env: []string{"APP_BUILD_NOTICE_SECONDS=0"}, want: "v1"},
		{name: "a source edited", build: true, want: "v2", change: func(t *testing.T) {
			p.write(t, "version.go", "package main\n\nconst version = \"v2\"\n")
		}},
		{name: "a file copied in with an old mtime (cp -p, tar, rsync -t)", build: true, want: "v3", change: func(t *testing.T) {
			p.write(t, "version.go", "package main\n\nconst version = \"v3\"\n")
			old := time.Now().Add(-24 * time.Hour)
			if err := os.Chtimes(filepath.Join(p.dir, "version.go"), old, old); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a new file in a new package", build: true, want: "v3", change: func(t *testing.T) {
			p.write(t, "internal/x/x.go", "package x\n")
		}},
		{name: "a file deleted", build: true, want: "v3", change: func(t *testing.T) {
			if err := os.RemoveAll(filepath.Join(p.dir, "internal")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "other Go settings", env: []string{"GOFLAGS=-tags=other"}, build: true, want: "v3"},
		{name: "back to the settings of the build before", build: true, want: "v3"},
		{name: "outputs and caches written: no build", want: "v3", change: func(t *testing.T) {
			for _, f := range []string{"cdk.out/manifest.json", "cdk.out/asset.1/bootstrap", "node_modules/x/x.js", ".cache/x"} {
				p.write(t, f, "x")
			}
		}},
		{name: "HYBRID_LLM_REBUILD=1", env: []string{"HYBRID_LLM_REBUILD=1"}, build: true, want: "v3"},
		{name: "a build that fails", build: true, wantErr: true, change: func(t *testing.T) {
			p.write(t, "version.go", "package main\n\nconst version = \n")
		}},
		{name: "after a failed build, the fix builds", build: true, want: "v4", change: func(t *testing.T) {
			p.write(t, "version.go", "package main\n\nconst version = \"v4\"\n")
		}},
		{name: "and then no build", want: "v4"},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change(t)
			// A change made within app.sh's 50 ms margin before a build
			// counts as made during it (one more build later): wait it out.
			time.Sleep(100 * time.Millisecond)
		}
		out, errOut, built, err := p.run(t, s.env...)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: app.sh error = %v, want error %v; stderr:\n%s", s.name, err, s.wantErr, errOut)
		}
		// With the notice due at once, it shows exactly when go build runs.
		if slices.Contains(s.env, "APP_BUILD_NOTICE_SECONDS=0") && strings.Contains(errOut, notice) != s.build {
			t.Errorf("%s: stderr shows the build notice = %v, want %v:\n%s", s.name, !s.build, s.build, errOut)
		}
		if built != s.build {
			t.Errorf("%s: ran go build = %v, want %v", s.name, built, s.build)
		}
		if !s.wantErr && out != s.want {
			t.Errorf("%s: app printed %q, want %q", s.name, out, s.want)
		}
	}
}
