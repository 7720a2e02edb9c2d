package crdvalidate_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/internal/testing/crdvalidate"
)

func widget(spec map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": "example.com/v1",
		"kind":       "Widget",
		"metadata":   map[string]any{"name": "w1"},
		"spec":       spec,
	}
}

func loadWidgets(t *testing.T) *crdvalidate.CRD {
	t.Helper()
	crd, err := crdvalidate.Load("testdata/widgets.example.com.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return crd
}

func errorStrings(t *testing.T, obj map[string]any, crd *crdvalidate.CRD, version string) []string {
	t.Helper()
	_, errs := crd.Validate(version, obj)
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestValidateRejects(t *testing.T) {
	crd := loadWidgets(t)
	tests := []struct {
		name    string
		version string
		obj     map[string]any
		want    []string
	}{
		{
			name:    "schema type error",
			version: "v1",
			obj:     widget(map[string]any{"size": "three"}),
			want: []string{
				`spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"`,
				`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`,
			},
		},
		{
			name:    "enum error",
			version: "v1",
			obj:     widget(map[string]any{"size": 3, "mode": "medium"}),
			want: []string{
				`spec.mode: Unsupported value: "medium": supported values: "fast", "slow"`,
				`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`,
			},
		},
		{
			name:    "CEL rule error",
			version: "v1",
			obj:     widget(map[string]any{"size": 7}),
			want:    []string{`spec: Invalid value: "object": fast widgets have at most 5 parts`},
		},
		{
			name:    "required field missing",
			version: "v1",
			obj:     widget(map[string]any{"mode": "slow"}),
			want: []string{
				`spec.size: Required value`,
				`<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`,
			},
		},
		{
			name:    "maximum exceeded",
			version: "v1",
			obj:     widget(map[string]any{"size": 11, "mode": "slow"}),
			want:    []string{`spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10`},
		},
		{
			name:    "pattern mismatch",
			version: "v1",
			obj:     widget(map[string]any{"size": 1, "image": "nginx:latest"}),
			want:    []string{`spec.image: Invalid value: "nginx:latest": spec.image in body should match '^[a-z]+:v[0-9]+$'`},
		},
		{
			name:    "list-type set with duplicates",
			version: "v1",
			obj:     widget(map[string]any{"size": 1, "tags": []any{"a", "a"}}),
			want:    []string{`spec.tags[1]: Duplicate value: "a"`},
		},
		{
			name:    "unknown field",
			version: "v1",
			obj:     widget(map[string]any{"size": 1, "colour": "red"}),
			want:    []string{`spec.colour: Unsupported value: null: unknown field (kubectl's default strict field validation rejects it)`},
		},
		{
			name:    "invalid metadata name",
			version: "v1",
			obj: map[string]any{
				"apiVersion": "example.com/v1", "kind": "Widget",
				"metadata": map[string]any{"name": "Not_A_Name"},
				"spec":     map[string]any{"size": 1},
			},
			want: []string{`metadata.name: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		},
		{
			name:    "wrong kind",
			version: "v1",
			obj: map[string]any{
				"apiVersion": "example.com/v1", "kind": "Gadget",
				"metadata": map[string]any{"name": "w1"},
				"spec":     map[string]any{"size": 1},
			},
			want: []string{`kind: Invalid value: "Gadget": must be Widget`},
		},
		{
			name:    "version not served",
			version: "v1alpha1",
			obj:     widget(map[string]any{"size": 1}),
			want:    []string{`apiVersion: Unsupported value: "v1alpha1": supported values: "v1"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(t, tt.obj, crd, tt.version)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateAcceptsAndDefaults(t *testing.T) {
	crd := loadWidgets(t)
	obj := widget(map[string]any{"size": 4, "image": "nginx:v1", "tags": []any{"a", "b"}})
	got, errs := crd.ValidateObject(obj)
	if len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	if mode := got["spec"].(map[string]any)["mode"]; mode != "fast" {
		t.Errorf("spec.mode after defaulting = %v, want fast", mode)
	}
	if _, ok := obj["spec"].(map[string]any)["mode"]; ok {
		t.Errorf("Validate modified its input: %v", obj)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{
			name: "not a CRD",
			data: "apiVersion: v1\nkind: ConfigMap\n",
			want: "got v1 ConfigMap, want apiextensions.k8s.io/v1 CustomResourceDefinition",
		},
		{
			name: "non-structural schema",
			data: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  names: {kind: Thing, plural: things}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {}
`,
			want: `things.example.com: version "v1": schema is not structural: properties[spec].type: Required value: must not be empty for specified object fields`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crdvalidate.Parse([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
