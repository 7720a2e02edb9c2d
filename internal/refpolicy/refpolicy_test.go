package refpolicy

import (
	"fmt"
	"reflect"
	"testing"
	"testing/fstest"
)

var files = Files{
	FS: fstest.MapFS{
		"policies/p-2.0.0.json":  {Data: []byte(`{"source":"https://example.com/2","version":"2.0.0","doc":{"a":1}}`)},
		"policies/p-10.0.0.json": {Data: []byte(`{"version":"10.0.0"}`)},
		"policies/p-1.0.0.json":  {Data: []byte(`{"version":"1.0.1"}`)},
		"policies/p-3.0.0.json":  {Data: []byte(`{"version":`)},
		"policies/p-4.0.0.yaml":  {Data: []byte(`version: 4.0.0`)},
		"policies/q-5.0.0.json":  {Data: []byte(`{"version":"5.0.0"}`)},
	},
	Dir: "policies", Prefix: "p-",
	Package: "pkg", Policy: "test policy", Subject: "thing version",
}

type wrapper struct {
	Source  string         `json:"source"`
	Version string         `json:"version"`
	Doc     map[string]any `json:"doc"`
}

func TestVersions(t *testing.T) {
	// Sorted as strings, as the packages have always listed them.
	want := []string{"1.0.0", "10.0.0", "2.0.0", "3.0.0"}
	if got := files.Versions(); !reflect.DeepEqual(got, want) {
		t.Errorf("Versions() = %q, want %q", got, want)
	}
	t.Run("unreadable directory panics", func(t *testing.T) {
		defer func() {
			want := "pkg: reading embedded policies: open nowhere: file does not exist"
			if r := recover(); fmt.Sprint(r) != want {
				t.Errorf("panic = %v, want %q", r, want)
			}
		}()
		f := files
		f.Dir = "nowhere"
		f.Versions()
	})
}

func TestLoad(t *testing.T) {
	t.Run("decodes the wrapper", func(t *testing.T) {
		var w wrapper
		if err := files.Load("2.0.0", &w); err != nil {
			t.Fatal(err)
		}
		want := wrapper{Source: "https://example.com/2", Version: "2.0.0", Doc: map[string]any{"a": 1.0}}
		if !reflect.DeepEqual(w, want) {
			t.Errorf("got %+v, want %+v", w, want)
		}
	})
	tests := []struct {
		name, version, want string
	}{
		{"missing version", "9.9.9", `pkg: no test policy embedded for thing version "9.9.9" (supported: 1.0.0, 10.0.0, 2.0.0, 3.0.0)`},
		{"other prefix", "5.0.0", `pkg: no test policy embedded for thing version "5.0.0" (supported: 1.0.0, 10.0.0, 2.0.0, 3.0.0)`},
		{"wrong version inside", "1.0.0", `pkg: embedded test policy file for "1.0.0" says version "1.0.1"`},
		{"malformed JSON", "3.0.0", `pkg: parsing embedded test policy for "3.0.0": unexpected end of JSON input`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w wrapper
			if err := files.Load(tt.version, &w); err == nil || err.Error() != tt.want {
				t.Errorf("Load(%q) error = %v, want %q", tt.version, err, tt.want)
			}
		})
	}
}

func TestStringListAndActions(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"string", StringList("s3:GetObject"), []string{"s3:GetObject"}},
		{"list, non-strings skipped", StringList([]any{"a", 1.0, "b"}), []string{"a", "b"}},
		{"neither", StringList(nil), []string(nil)},
		{"distinct actions sorted", Actions([]any{
			map[string]any{"Action": []any{"s3:PutObject", "s3:GetObject"}},
			map[string]any{"Action": "s3:GetObject"},
		}), []string{"s3:GetObject", "s3:PutObject"}},
		{"no actions", Actions(nil), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}
