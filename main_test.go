package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

// TestMainSkipsNagOnlyWhenValidationIsOff runs the real app binary as the CDK
// CLI does, with cdk.json's context: cdk-nag writes its report for every
// stack, unless the CLI was asked for no validation (CDK_VALIDATION=false,
// `cdk synth --no-validation`), which skips cdk-nag with aws-cdk-lib's
// template validation and says so. The templates are the same either way.
func TestMainSkipsNagOnlyWhenValidationIsOff(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the app binary")
	}
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	ctxJSON, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const skipped = "cdk-nag is skipped too"
	tests := []struct {
		name       string
		validation string // CDK_VALIDATION; "" leaves it unset
		nag        bool
	}{
		{"validation on (the default)", "", true},
		{"validation off", "false", false},
	}
	// templates[i] holds tests[i]'s templates by stack, compared after both ran.
	templates := make([]map[string][]byte, len(tests))
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		for stack, on := range templates[0] {
			if !bytes.Equal(on, templates[1][stack]) {
				t.Errorf("%s.template.json differs between %s and %s: the switch must skip checks, not change templates", stack, tests[0].name, tests[1].name)
			}
		}
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			templates[i] = map[string][]byte{}
			outdir := t.TempDir()
			cmd := exec.Command("go", "run", "-buildvcs=false", ".")
			cmd.Env = append(withoutEnv(os.Environ(), validationEnv), "CDK_CONTEXT_JSON="+string(ctxJSON), "CDK_OUTDIR="+outdir)
			if tt.validation != "" {
				cmd.Env = append(cmd.Env, validationEnv+"="+tt.validation)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("app failed: %v\n%s", err, out)
			}
			if got := strings.Contains(string(out), skipped); got == tt.nag {
				t.Errorf("output says %q: %v, want %v\n%s", skipped, got, !tt.nag, out)
			}
			for _, stack := range []string{networkStackID, clusterStackID, nodeGroupsStackID, addonsStackID} {
				template, err := os.ReadFile(filepath.Join(outdir, stack+".template.json"))
				if err != nil {
					t.Errorf("no template for %s: %v", stack, err)
				}
				templates[i][stack] = template
				report := filepath.Join(outdir, "AwsSolutions--"+stack+"-NagReport.csv")
				if _, err := os.Stat(report); (err == nil) != tt.nag {
					t.Errorf("cdk-nag report for %s exists = %v, want %v", stack, err == nil, tt.nag)
				}
			}
		})
	}
}

// withoutEnv returns env without the variable key.
func withoutEnv(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
