package gobundle

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/internal/modroot"
)

// lambdaPkg is the repository's Lambda main package.
const lambdaPkg = "lambda/customresources"

// bundle runs the local bundler for pkg into a fresh directory and returns
// the binary it wrote.
func bundle(t *testing.T, pkg string) []byte {
	t.Helper()
	out := t.TempDir()
	b := &bundler{root: modroot.Dir(), pkg: pkg}
	if ok := b.TryBundle(&out, nil); ok == nil || !*ok {
		t.Fatal("TryBundle did not report success")
	}
	raw, err := os.ReadFile(filepath.Join(out, Handler))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestBuildIsReproducible: the asset hash is the output's, so two builds of
// the same code must be byte-identical, or every synth would change the
// template.
func TestBuildIsReproducible(t *testing.T) {
	first, second := bundle(t, lambdaPkg), bundle(t, lambdaPkg)
	if !bytes.Equal(first, second) {
		t.Errorf("two builds of %s differ (%d and %d bytes): the output asset hash would change on every synth", lambdaPkg, len(first), len(second))
	}
}

// TestBinaryIsAStaticArm64ExecutableWithoutRPC: what provided.al2023 on arm64
// runs: a static (no cgo, no interpreter) aarch64 ELF, without the net/rpc
// mode the lambda.norpc tag leaves out.
func TestBinaryIsAStaticArm64ExecutableWithoutRPC(t *testing.T) {
	raw := bundle(t, lambdaPkg)
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
		t.Errorf("binary is %v %v, want EM_AARCH64 ET_EXEC", f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has a program interpreter: it is dynamically linked (cgo on?)")
		}
	}
	if bytes.Contains(raw, []byte("net/rpc.")) {
		t.Error("binary contains net/rpc: built without -tags lambda.norpc")
	}
}

func TestBuildArgs(t *testing.T) {
	got := strings.Join(BuildArgs("lambda/customresources", "/out/bootstrap"), " ")
	want := "run -exec cp -trimpath -buildvcs=false -ldflags=-s -w -tags=lambda.norpc ./lambda/customresources /out/bootstrap"
	if got != want {
		t.Errorf("BuildArgs = %q, want %q", got, want)
	}
	env := strings.Join(Env(), "\n")
	for _, kv := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"} {
		if !strings.HasSuffix(env, kv) && !strings.Contains(env, kv+"\n") {
			t.Errorf("Env lacks %s", kv)
		}
	}
}

// TestFailedBuildPanicsWithTheCompilerOutput: a broken package stops the
// synth with go's message rather than falling back to Docker.
func TestFailedBuildPanicsWithTheCompilerOutput(t *testing.T) {
	defer func() {
		r, _ := recover().(string)
		if !strings.Contains(r, "gobundle: go build ./lambda/nonexistent for linux/arm64") {
			t.Errorf("panic = %q, want the failed go build", r)
		}
	}()
	out := t.TempDir()
	(&bundler{root: modroot.Dir(), pkg: "lambda/nonexistent"}).TryBundle(&out, nil)
}

// TestBundlerTakesThePrefetchedBuild: after Prefetch, the bundler copies the
// prefetched binary (here replaced by a marker, so the copy is told apart
// from a build of its own), and Cleanup removes the prefetch's directory.
func TestBundlerTakesThePrefetchedBuild(t *testing.T) {
	defer prefetches.Delete(lambdaPkg)
	Prefetch(lambdaPkg)
	v, _ := prefetches.Load(lambdaPkg)
	p := v.(*prefetch)
	<-p.done
	if p.err != nil {
		t.Fatalf("prefetch: %v", p.err)
	}
	prefetched, err := os.ReadFile(filepath.Join(p.dir, Handler))
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(t.TempDir(), Handler)
	if err := build(modroot.Dir(), lambdaPkg, own); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(own); !bytes.Equal(prefetched, raw) {
		t.Errorf("the prefetched binary (%d bytes) differs from the bundler's own build (%d bytes)", len(prefetched), len(raw))
	}
	marker := []byte("prefetched")
	if err := os.WriteFile(filepath.Join(p.dir, Handler), marker, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := bundle(t, lambdaPkg); !bytes.Equal(got, marker) {
		t.Errorf("the bundler built its own binary (%d bytes) instead of taking the prefetched one", len(got))
	}
	Cleanup()
	if _, err := os.Stat(p.dir); !os.IsNotExist(err) {
		t.Errorf("Cleanup left %s: %v", p.dir, err)
	}
}
