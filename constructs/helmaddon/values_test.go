package helmaddon_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hybrid-llm/platform/constructs/helmaddon"
)

func TestMergeValues(t *testing.T) {
	tests := []struct {
		name           string
		base, override map[string]any
		want           map[string]any
	}{
		{"both nil", nil, nil, map[string]any{}},
		{"nil override keeps base", map[string]any{"a": 1}, nil, map[string]any{"a": 1}},
		{"nil base takes override", nil, map[string]any{"a": 1}, map[string]any{"a": 1}},
		{"scalar replaces scalar", map[string]any{"replicas": 2}, map[string]any{"replicas": 3}, map[string]any{"replicas": 3}},
		{"maps merge recursively",
			map[string]any{"settings": map[string]any{"clusterName": "c", "batch": map[string]any{"maxDuration": "10s", "idle": "1s"}}},
			map[string]any{"settings": map[string]any{"batch": map[string]any{"idle": "2s"}, "featureGates": map[string]any{"spot": true}}},
			map[string]any{"settings": map[string]any{"clusterName": "c", "batch": map[string]any{"maxDuration": "10s", "idle": "2s"}, "featureGates": map[string]any{"spot": true}}}},
		{"lists replace, never append",
			map[string]any{"tolerations": []any{map[string]any{"key": "a"}, map[string]any{"key": "b"}}},
			map[string]any{"tolerations": []any{map[string]any{"key": "c"}}},
			map[string]any{"tolerations": []any{map[string]any{"key": "c"}}}},
		{"scalar replaces map", map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": "x"}, map[string]any{"a": "x"}},
		{"map replaces scalar", map[string]any{"a": "x"}, map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": map[string]any{"b": 1}}},
		{"nil override value is kept as null", map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": nil}, map[string]any{"a": nil}},
		{"typed maps and slices are normalized and merged",
			map[string]any{"nodeSelector": map[string]string{"a": "1", "b": "2"}, "args": []string{"x"}},
			map[string]any{"nodeSelector": map[string]any{"b": "3"}},
			map[string]any{"nodeSelector": map[string]any{"a": "1", "b": "3"}, "args": []any{"x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := helmaddon.MergeValues(tt.base, tt.override)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MergeValues() = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestMergeValuesDoesNotMutateOrAlias(t *testing.T) {
	base := map[string]any{"a": map[string]any{"b": 1, "l": []any{1, 2}}, "s": "x"}
	override := map[string]any{"a": map[string]any{"c": 2}, "m": map[string]any{"n": []any{3}}}
	snapshot := func() string {
		b, _ := json.Marshal([]any{base, override})
		return string(b)
	}
	before := snapshot()

	got := helmaddon.MergeValues(base, override)
	if after := snapshot(); after != before {
		t.Fatalf("inputs changed by MergeValues:\nbefore %s\nafter  %s", before, after)
	}

	// Writing through the result must not reach the inputs.
	got["a"].(map[string]any)["b"] = 99
	got["a"].(map[string]any)["l"].([]any)[0] = 99
	got["m"].(map[string]any)["n"].([]any)[0] = 99
	got["s"] = "y"
	if after := snapshot(); after != before {
		t.Errorf("result aliases the inputs:\nbefore %s\nafter  %s", before, after)
	}
}
