// Package refpolicy lists and loads upstream IAM policies embedded as data:
// files <dir>/<prefix><version>.json, each a JSON wrapper whose "source"
// names the upstream file at the version's tag and whose "version" is the
// version, beside the caller's own fields (the policy documents).
//
// The constructs that keep an official policy (karpenter, lbcontroller) use
// it so they list versions, check the wrapper and report a missing version
// the same way, each with its own error texts.
package refpolicy

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Files is one package's set of embedded reference policy files.
type Files struct {
	// FS holds the files, usually an embed.FS.
	FS fs.FS
	// Dir is the directory of the files in FS, e.g. "policies".
	Dir string
	// Prefix starts every file name, before the version and ".json".
	Prefix string

	// Package starts every error and panic message, e.g. "karpenter".
	Package string
	// Policy names the policy in messages, e.g. "controller policy".
	Policy string
	// Subject names what the version is of, e.g. "Karpenter version".
	Subject string
}

// Versions returns the versions for which a file is embedded, sorted. It
// panics when Dir cannot be read (a build defect, not a user error).
func (f Files) Versions() []string {
	entries, err := fs.ReadDir(f.FS, f.Dir)
	if err != nil {
		panic(fmt.Sprintf("%s: reading embedded policies: %v", f.Package, err))
	}
	var versions []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, f.Prefix) && strings.HasSuffix(name, ".json") {
			versions = append(versions, strings.TrimSuffix(strings.TrimPrefix(name, f.Prefix), ".json"))
		}
	}
	sort.Strings(versions)
	return versions
}

// Load decodes the file of version into ref (a pointer to the caller's
// wrapper struct) and checks that the wrapper's "version" is version. The
// error for a version without a file names it and the supported versions.
func (f Files) Load(version string, ref any) error {
	raw, err := fs.ReadFile(f.FS, path.Join(f.Dir, f.Prefix+version+".json"))
	if err != nil {
		return fmt.Errorf("%s: no %s embedded for %s %q (supported: %s)",
			f.Package, f.Policy, f.Subject, version, strings.Join(f.Versions(), ", "))
	}
	if err := json.Unmarshal(raw, ref); err != nil {
		return fmt.Errorf("%s: parsing embedded %s for %q: %w", f.Package, f.Policy, version, err)
	}
	var wrapper struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &wrapper); err != nil {
		return fmt.Errorf("%s: parsing embedded %s for %q: %w", f.Package, f.Policy, version, err)
	}
	if wrapper.Version != version {
		return fmt.Errorf("%s: embedded %s file for %q says version %q", f.Package, f.Policy, version, wrapper.Version)
	}
	return nil
}

// StringList reads an IAM "Action"/"Resource" value (a string or a list);
// non-string list elements are skipped.
func StringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Actions returns the distinct actions of statements (IAM statement
// objects), sorted.
func Actions(statements []any) []string {
	seen := map[string]bool{}
	for _, s := range statements {
		st, _ := s.(map[string]any)
		for _, a := range StringList(st["Action"]) {
			seen[a] = true
		}
	}
	actions := make([]string, 0, len(seen))
	for a := range seen {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	return actions
}
