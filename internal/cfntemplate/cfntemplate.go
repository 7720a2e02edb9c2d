// Package cfntemplate reads synthesized CloudFormation templates the way the
// golden files under testdata/ hold them: Normalize is the one normalization
// (the root golden test and scripts/diff-offline.sh both use it), Diff
// classifies what changes between two templates, resource by resource.
package cfntemplate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
)

// AssetHash matches the 64-hex content hashes CDK puts in asset file names
// (S3Key, TemplateURL): they change with the CDK version and asset bytes.
var AssetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// AssetHashPlaceholder replaces every AssetHash in a normalized template.
const AssetHashPlaceholder = "<asset-hash>"

// Normalize makes a template stable for a golden file: asset hashes become
// AssetHashPlaceholder and CDK's metadata resource (and its condition) is
// dropped. Everything else, logical ids included, stays: a changed logical
// id replaces a resource. The result is indented JSON ending in a newline.
func Normalize(tpl map[string]any) ([]byte, error) {
	if res, ok := tpl["Resources"].(map[string]any); ok {
		for id, r := range res {
			if m, _ := r.(map[string]any); m["Type"] == "AWS::CDK::Metadata" {
				delete(res, id)
			}
		}
	}
	if cond, ok := tpl["Conditions"].(map[string]any); ok {
		delete(cond, "CDKMetadataAvailable")
		if len(cond) == 0 {
			delete(tpl, "Conditions")
		}
	}
	raw, err := json.MarshalIndent(tpl, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the normalized template: %w", err)
	}
	raw = AssetHash.ReplaceAll(raw, []byte(AssetHashPlaceholder))
	return append(raw, '\n'), nil
}

// Change kinds, from what a reviewer must not miss to what is routine.
const (
	// Replaced: a resource's logical id or type changes, so CloudFormation
	// creates a new resource and deletes the old one. A removed and an added
	// resource of the same type are paired as one replacement.
	Replaced = "replaced"
	// Removed: a resource is deleted.
	Removed = "removed"
	// Added: a resource is created.
	Added = "added"
	// Modified: a resource keeps its logical id and type; some of its
	// attributes (Properties, DependsOn, policies) change. Whether a property
	// change itself forces a replacement is not known offline: `cdk diff`
	// against the deployed stack says so.
	Modified = "modified"
)

// Change is one resource-level difference between two templates.
type Change struct {
	// Kind is Replaced, Removed, Added or Modified.
	Kind string
	// Type is the resource type (the new one for Replaced).
	Type string
	// ID is the logical id (the new one for Replaced).
	ID string
	// OldID is the logical id it replaces (Replaced only).
	OldID string
	// Attributes are the changed top-level attributes (Modified only), e.g.
	// "Properties", "DependsOn".
	Attributes []string
}

// String renders the change on one line.
func (c Change) String() string {
	switch c.Kind {
	case Replaced:
		if c.OldID == c.ID {
			return fmt.Sprintf("%s %s %s (type changed)", c.Kind, c.Type, c.ID)
		}
		return fmt.Sprintf("%s %s %s -> %s", c.Kind, c.Type, c.OldID, c.ID)
	case Modified:
		return fmt.Sprintf("%s %s %s: %v", c.Kind, c.Type, c.ID, c.Attributes)
	}
	return fmt.Sprintf("%s %s %s", c.Kind, c.Type, c.ID)
}

// Diff returns the resource changes from template old to template new,
// sorted by kind, type and id. Outputs, Parameters and Conditions are not
// compared: they change no resource.
func Diff(old, new map[string]any) []Change {
	oldRes, _ := old["Resources"].(map[string]any)
	newRes, _ := new["Resources"].(map[string]any)
	typeOf := func(r any) string {
		m, _ := r.(map[string]any)
		t, _ := m["Type"].(string)
		return t
	}
	var out []Change
	removed := map[string][]string{} // type -> ids
	added := map[string][]string{}
	for id, o := range oldRes {
		n, ok := newRes[id]
		switch {
		case !ok:
			removed[typeOf(o)] = append(removed[typeOf(o)], id)
		case typeOf(o) != typeOf(n):
			out = append(out, Change{Kind: Replaced, Type: typeOf(n), ID: id, OldID: id})
		default:
			if attrs := changedAttributes(o, n); len(attrs) > 0 {
				out = append(out, Change{Kind: Modified, Type: typeOf(n), ID: id, Attributes: attrs})
			}
		}
	}
	for id, n := range newRes {
		if _, ok := oldRes[id]; !ok {
			added[typeOf(n)] = append(added[typeOf(n)], id)
		}
	}
	for typ, rem := range removed {
		add := added[typ]
		sort.Strings(rem)
		sort.Strings(add)
		for len(rem) > 0 && len(add) > 0 {
			out = append(out, Change{Kind: Replaced, Type: typ, ID: add[0], OldID: rem[0]})
			rem, add = rem[1:], add[1:]
		}
		for _, id := range rem {
			out = append(out, Change{Kind: Removed, Type: typ, ID: id})
		}
		added[typ] = add
	}
	for typ, add := range added {
		for _, id := range add {
			out = append(out, Change{Kind: Added, Type: typ, ID: id})
		}
	}
	rank := map[string]int{Replaced: 0, Removed: 1, Added: 2, Modified: 3}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.ID < b.ID
	})
	return out
}

// changedAttributes lists the top-level attributes of two resources that
// differ, sorted.
func changedAttributes(old, new any) []string {
	o, _ := old.(map[string]any)
	n, _ := new.(map[string]any)
	keys := map[string]bool{}
	for k := range o {
		keys[k] = true
	}
	for k := range n {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !reflect.DeepEqual(o[k], n[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
