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
	// Default: "${import:<export name>}", as Resolve renders it.
	ImportValue string
	// SortConditionValues sorts the value lists inside Condition blocks.
	// Default: condition value lists keep their order.
	SortConditionValues bool
}

// Flatten renders CloudFormation intrinsics in v as strings for comparison,
// as Resolve does (so a synthesized partition shows as "${AWS::Partition}"),
// with every Fn::ImportValue as s.ImportValue when set.
func (s Statements) Flatten(v any) any {
	return Resolver{Value: func(placeholder string) string {
		if s.ImportValue != "" && strings.HasPrefix(placeholder, "${import:") {
			return s.ImportValue
		}
		return placeholder
	}}.Resolve(v)
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
