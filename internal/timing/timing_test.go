package timing

import (
	"io"
	"os"
	"regexp"
	"testing"
	"time"
)

// stderrOf runs f and returns what it wrote to os.Stderr.
func stderrOf(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	f()
	os.Stderr = saved
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestSince(t *testing.T) {
	start := time.Now().Add(-1500 * time.Millisecond)
	t.Setenv(Env, "")
	if out := stderrOf(t, func() { Since("tree", start) }); out != "" {
		t.Errorf("printed %q without %s=1", out, Env)
	}
	t.Setenv(Env, "1")
	out := stderrOf(t, func() { Since("construct tree", start) })
	// scripts/bench.sh parses this shape: prefix, phase (may contain
	// spaces), seconds as the last field.
	if !regexp.MustCompile(`^timing: construct tree 1\.5\d\d\n$`).MatchString(out) {
		t.Errorf("printed %q, want \"timing: construct tree 1.5xx\\n\"", out)
	}
}
