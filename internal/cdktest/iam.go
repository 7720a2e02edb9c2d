package cdktest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// Statements normalizes IAM policy statements, synthesized or upstream, so
// that statements granting the same thing compare equal as strings. The zero
// value flattens intrinsics and sorts Action and Resource lists only.
type Statements struct {
	// ImportValue, when set, is the string every {"Fn::ImportValue": ...}
	// flattens to (e.g. a cluster name exported by the cluster stack).
	// Default: Fn::ImportValue is kept as an object.
	ImportValue string
	// SortConditionValues sorts the value lists inside Condition blocks.
	// Default: condition value lists keep their order.
	SortConditionValues bool
}

// Flatten renders CloudFormation intrinsics in v as strings for comparison:
// {"Ref": X} -> "${X}", {"Fn::GetAtt": [X, A]} -> "${X.A}", Fn::Join parts
// joined (so a synthesized partition shows as "${AWS::Partition}"), and
// Fn::ImportValue as s.ImportValue when set.
func (s Statements) Flatten(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if ref, ok := t["Ref"].(string); ok && len(t) == 1 {
			return "${" + ref + "}"
		}
		if _, ok := t["Fn::ImportValue"]; ok && len(t) == 1 && s.ImportValue != "" {
			return s.ImportValue
		}
		if ga, ok := t["Fn::GetAtt"].([]any); ok && len(t) == 1 {
			return fmt.Sprintf("${%v.%v}", ga[0], ga[1])
		}
		if join, ok := t["Fn::Join"].([]any); ok && len(t) == 1 {
			var b strings.Builder
			for i, p := range join[1].([]any) {
				if i > 0 {
					b.WriteString(join[0].(string))
				}
				b.WriteString(fmt.Sprint(s.Flatten(p)))
			}
			return b.String()
		}
		out := map[string]any{}
		for k, e := range t {
			out[k] = s.Flatten(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = s.Flatten(e)
		}
		return out
	}
	return v
}

// Canonical renders each statement as a JSON string, flattened, with sorted
// Action and Resource lists (and sorted condition value lists when
// s.SortConditionValues), and returns the sorted list of those strings.
func (s Statements) Canonical(t *testing.T, statements []any) []string {
	t.Helper()
	var out []string
	for _, st := range statements {
		m := s.Flatten(st).(map[string]any)
		m["Action"] = SortedSet(m["Action"])
		m["Resource"] = SortedSet(m["Resource"])
		if cond, ok := m["Condition"].(map[string]any); ok && s.SortConditionValues {
			for _, block := range cond {
				if b, ok := block.(map[string]any); ok {
					for k, v := range b {
						if l, ok := v.([]any); ok {
							b[k] = SortedSet(l)
						}
					}
				}
			}
		}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	sort.Strings(out)
	return out
}

// SortedSet turns an IAM string-or-list value into a sorted list.
func SortedSet(v any) []string {
	var out []string
	switch t := v.(type) {
	case string:
		out = []string{t}
	case []any:
		for _, e := range t {
			out = append(out, fmt.Sprint(e))
		}
	}
	sort.Strings(out)
	return out
}

// Actions returns the distinct actions of statements, sorted.
func Actions(statements []any) []string {
	seen := map[string]bool{}
	for _, s := range statements {
		for _, a := range SortedSet(s.(map[string]any)["Action"]) {
			seen[a] = true
		}
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
