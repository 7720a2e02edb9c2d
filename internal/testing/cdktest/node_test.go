package cdktest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNode writes an executable that prints version, as `node --version` does.
func fakeNode(t *testing.T, version string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho "+version+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckNode(t *testing.T) {
	tests := []struct {
		name, version, wantErr string
	}{
		{"pinned Node 24", "v24.21.0", ""},
		{"Node 22", "v22.23.3", ""},
		{"end-of-life Node 20", "v20.20.2", "jsii runs on Node.js v20.20.2"},
		{"garbage", "not-a-version", `cannot read the Node.js version "not-a-version"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JSII_NODE", fakeNode(t, tt.version))
			err := CheckNode()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckNode() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckNode() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
