package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMainRejectsBadConfigBeforeSynth runs the real app binary as the CDK CLI
// does (context in CDK_CONTEXT_JSON) with a bad value: it must exit non-zero
// with the field-named error and write no cloud assembly.
func TestMainRejectsBadConfigBeforeSynth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the app binary")
	}
	// `go run .` runs the app binary from the Go build cache (Go >= 1.24)
	// when it is up to date: `go build -o` into a temp dir relinked the
	// 100 MB binary at every test run. go run exits 1 when the
	// app does, and adds "exit status 1" to the app's stderr.
	tests := []struct {
		name    string
		context string
		want    string
	}{
		{"unsupported Kubernetes version", `{"hybridLlm.kubernetesVersion":"1.34"}`,
			"hybridLlm.kubernetesVersion 1.34 is not supported by the kubectl 1.36 layer and Karpenter 1.14.1; use 1.35–1.36"},
		{"unknown key", `{"hybridLlm.systemNodeGroup.minSzie":"3"}`,
			`hybridLlm.systemNodeGroup.minSzie: unknown field; allowed: desiredSize, diskSizeGiB, instanceTypes, maxSize, minSize`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outdir := t.TempDir()
			cmd := exec.Command("go", "run", "-buildvcs=false", ".")
			cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+tt.context, "CDK_OUTDIR="+outdir)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("app exited 0 with %s:\n%s", tt.context, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("output does not contain %q:\n%s", tt.want, out)
			}
			if entries, _ := os.ReadDir(outdir); len(entries) != 0 {
				t.Errorf("app wrote %d files to the cloud assembly before failing", len(entries))
			}
		})
	}
}
