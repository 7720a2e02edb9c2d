package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/config"
)

// The Kubernetes upgrade runbook in README.md lists, between these two
// markers, every template change a one-minor kubernetesVersion bump makes.
// That table is the one list: TestUpgradeChangesOnlyWhatTheRunbookSays reads
// its expectations from it, so the runbook and the templates cannot drift.
const (
	upgradeTableBegin = "<!-- upgrade-changes:begin -->"
	upgradeTableEnd   = "<!-- upgrade-changes:end -->"
)

// upgradeChange is one row of the runbook's table: in Stack, every resource
// of Type changes Property (a path under Properties) from the old Kubernetes
// version to the new one, on Count resources.
type upgradeChange struct {
	Stack, Type, Property string
	Count                 int
}

// readUpgradeTable parses the runbook's table out of a README.
func readUpgradeTable(readme string) ([]upgradeChange, error) {
	begin := strings.Index(readme, upgradeTableBegin)
	end := strings.Index(readme, upgradeTableEnd)
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("no %s … %s table", upgradeTableBegin, upgradeTableEnd)
	}
	var out []upgradeChange
	for _, line := range strings.Split(readme[begin+len(upgradeTableBegin):end], "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") || strings.HasPrefix(line, "| Stack") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 4 {
			return nil, fmt.Errorf("table row %q: want | Stack | Resource type | Property | Resources | …", line)
		}
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		n, err := strconv.Atoi(cells[3])
		if err != nil {
			return nil, fmt.Errorf("table row %q: Resources %q is not a number", line, cells[3])
		}
		out = append(out, upgradeChange{Stack: cells[0], Type: cells[1], Property: cells[2], Count: n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the %s table has no rows", upgradeTableBegin)
	}
	return out, nil
}

// valueChange is one leaf that differs between two templates.
type valueChange struct {
	// Path is where it is: "Resources.<id>.Properties.Version".
	Path     string
	Old, New any
}

// diffValues lists the leaves of a and b that differ, under path. Maps are
// compared key by key; lists of different lengths, and values of different
// kinds, are one change at their own path.
func diffValues(path string, a, b any) []valueChange {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []valueChange
		for _, k := range sorted {
			out = append(out, diffValues(join(path, k), am[k], bm[k])...)
		}
		return out
	}
	al, aIsList := a.([]any)
	bl, bIsList := b.([]any)
	if aIsList && bIsList && len(al) == len(bl) {
		var out []valueChange
		for i := range al {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i])...)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []valueChange{{Path: path, Old: a, New: b}}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkUpgrade compares one stack's template at the old and the new
// Kubernetes version against the runbook's rows for that stack. It returns
// one message per difference the runbook does not list, and per listed change
// that did not happen on exactly the number of resources the runbook says.
func checkUpgrade(stack string, oldTpl, newTpl map[string]any, oldVersion, newVersion string, rows []upgradeChange) []string {
	var problems []string
	changed := map[upgradeChange]int{}
	oldRes, _ := oldTpl["Resources"].(map[string]any)
	newRes, _ := newTpl["Resources"].(map[string]any)
	for _, c := range diffValues("", oldTpl, newTpl) {
		parts := strings.SplitN(c.Path, ".", 3)
		if parts[0] != "Resources" || len(parts) < 2 {
			problems = append(problems, fmt.Sprintf("%s: %s changes (%s: %s → %s: %s): not a resource property, and the runbook lists none",
				stack, c.Path, oldVersion, show(c.Old), newVersion, show(c.New)))
			continue
		}
		id, rest := parts[1], ""
		if len(parts) == 3 {
			rest = parts[2]
		}
		if oldRes[id] == nil || newRes[id] == nil {
			r, v := newRes[id], newVersion
			if r == nil {
				r, v = oldRes[id], oldVersion
			}
			problems = append(problems, fmt.Sprintf("%s: %s %s exists only at %s: a version bump would create or delete (replace) it",
				stack, typeOf(r), id, v))
			continue
		}
		typ := typeOf(newRes[id])
		if typeOf(oldRes[id]) != typ {
			problems = append(problems, fmt.Sprintf("%s: %s changes type from %s to %s", stack, id, typeOf(oldRes[id]), typ))
			continue
		}
		listed := false
		for _, row := range rows {
			if row.Stack == stack && row.Type == typ && rest == "Properties."+row.Property &&
				c.Old == oldVersion && c.New == newVersion {
				changed[row]++
				listed = true
			}
		}
		if !listed {
			problems = append(problems, fmt.Sprintf("%s: %s %s: %s changes (%s: %s → %s: %s), which README.md's upgrade table (%s) does not list",
				stack, typ, id, rest, oldVersion, show(c.Old), newVersion, show(c.New), upgradeTableBegin))
		}
	}
	for _, row := range rows {
		if row.Stack == stack && changed[row] != row.Count {
			problems = append(problems, fmt.Sprintf("%s: README.md's upgrade table says %d %s change %s from %s to %s; the templates change it on %d",
				stack, row.Count, row.Type, row.Property, oldVersion, newVersion, changed[row]))
		}
	}
	return problems
}

func typeOf(r any) string {
	m, _ := r.(map[string]any)
	t, _ := m["Type"].(string)
	return t
}

// show prints a value compactly for a failure message.
func show(v any) string {
	if v == nil {
		return "(absent)"
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(raw) > 200 {
		return string(raw[:200]) + "…"
	}
	return string(raw)
}

// previousMinor returns the Kubernetes minor version below v ("1.36" → "1.35").
func previousMinor(t *testing.T, v string) string {
	t.Helper()
	minor, err := strconv.Atoi(strings.TrimPrefix(v, "1."))
	if err != nil || !strings.HasPrefix(v, "1.") {
		t.Fatalf("default Kubernetes version %q is not 1.<minor>", v)
	}
	return fmt.Sprintf("1.%d", minor-1)
}

// TestUpgradeChangesOnlyWhatTheRunbookSays synthesizes the app at the allowed
// Kubernetes version below the default and at the default, the upgrade the
// runbook walks through, in both identity modes, and checks that the four
// templates differ exactly by the rows of the runbook's table: every other
// resource and property identical, no resource created, deleted or replaced.
func TestUpgradeChangesOnlyWhatTheRunbookSays(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readUpgradeTable(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	for _, row := range rows {
		if !slices.Contains(stackIDs, row.Stack) {
			t.Errorf("README.md's upgrade table names stack %q; the stacks are %v", row.Stack, stackIDs)
		}
	}

	newVersion := config.DefaultKubernetesVersion
	oldVersion := previousMinor(t, newVersion)
	for _, mode := range identityModes {
		old := mustSynthesize(t, map[string]any{"hybridLlm.kubernetesVersion": oldVersion, "hybridLlm.identity": mode.identity})
		cur := mode.app(t)
		for _, id := range stackIDs {
			t.Run(mode.identity+"/"+id, func(t *testing.T) {
				for _, p := range checkUpgrade(id, *old.templates[id].ToJSON(), *cur.templates[id].ToJSON(), oldVersion, newVersion, rows) {
					t.Error(p)
				}
			})
		}
	}
}

// TestUpgradeCheckBites feeds checkUpgrade hand-made templates, so each kind
// of finding is shown to be reported.
func TestUpgradeCheckBites(t *testing.T) {
	rows := []upgradeChange{{Stack: "S", Type: "AWS::EKS::Cluster", Property: "Version", Count: 1}}
	cluster := func(version string) map[string]any {
		return map[string]any{"Type": "AWS::EKS::Cluster", "Properties": map[string]any{"Version": version, "Name": "c"}}
	}
	queue := func(retention float64) map[string]any {
		return map[string]any{"Type": "AWS::SQS::Queue", "Properties": map[string]any{"MessageRetentionPeriod": retention}}
	}
	tpl := func(res map[string]any) map[string]any { return map[string]any{"Resources": res} }
	tests := []struct {
		name     string
		old, new map[string]any
		want     []string
	}{
		{"only the listed change", tpl(map[string]any{"C": cluster("1.35"), "Q": queue(300)}), tpl(map[string]any{"C": cluster("1.36"), "Q": queue(300)}), nil},
		{"an unlisted property changes", tpl(map[string]any{"C": cluster("1.35"), "Q": queue(300)}), tpl(map[string]any{"C": cluster("1.36"), "Q": queue(301)}),
			[]string{"S: AWS::SQS::Queue Q: Properties.MessageRetentionPeriod changes (1.35: 300 → 1.36: 301), which README.md's upgrade table"}},
		{"a listed change does not happen", tpl(map[string]any{"C": cluster("1.36")}), tpl(map[string]any{"C": cluster("1.36")}),
			[]string{"S: README.md's upgrade table says 1 AWS::EKS::Cluster change Version from 1.35 to 1.36; the templates change it on 0"}},
		{"a listed property changes to something else", tpl(map[string]any{"C": cluster("1.35")}), tpl(map[string]any{"C": cluster("1.35.1")}),
			[]string{`S: AWS::EKS::Cluster C: Properties.Version changes (1.35: "1.35" → 1.36: "1.35.1")`, "the templates change it on 0"}},
		{"a resource is replaced", tpl(map[string]any{"C": cluster("1.35"), "Q1": queue(300)}), tpl(map[string]any{"C": cluster("1.36"), "Q2": queue(300)}),
			[]string{"S: AWS::SQS::Queue Q1 exists only at 1.35", "S: AWS::SQS::Queue Q2 exists only at 1.36"}},
		{"an output changes", map[string]any{"Resources": map[string]any{"C": cluster("1.35")}, "Outputs": map[string]any{"V": map[string]any{"Value": "a"}}},
			map[string]any{"Resources": map[string]any{"C": cluster("1.36")}, "Outputs": map[string]any{"V": map[string]any{"Value": "b"}}},
			[]string{"S: Outputs.V.Value changes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkUpgrade("S", tt.old, tt.new, "1.35", "1.36", rows)
			if len(tt.want) == 0 && len(got) != 0 {
				t.Errorf("checkUpgrade reported %q, want nothing", got)
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					found = found || strings.Contains(g, w)
				}
				if !found {
					t.Errorf("checkUpgrade = %q, want a message containing %q", got, w)
				}
			}
		})
	}
}

// TestUpgradeTableParses checks the parser on the README's own table and on
// rows it must refuse.
func TestUpgradeTableParses(t *testing.T) {
	for _, bad := range []string{
		"no table here",
		upgradeTableBegin + "\n| Stack | Resource type | Property | Resources | Effect |\n|---|---|---|---|---|\n" + upgradeTableEnd,
		upgradeTableBegin + "\n| `S` | `T` | `Version` | two | x |\n" + upgradeTableEnd,
	} {
		if _, err := readUpgradeTable(bad); err == nil {
			t.Errorf("readUpgradeTable(%q) = nil error", bad)
		}
	}
	got, err := readUpgradeTable(upgradeTableBegin + "\n| Stack | Resource type | Property | Resources | Effect |\n|---|---|---|---|---|\n| `S` | `AWS::EKS::Cluster` | `Version` | 1 | upgrade |\n" + upgradeTableEnd)
	if err != nil {
		t.Fatal(err)
	}
	if want := []upgradeChange{{"S", "AWS::EKS::Cluster", "Version", 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("readUpgradeTable = %+v, want %+v", got, want)
	}
}
