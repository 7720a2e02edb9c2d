// Command gen derives the values key list of a Helm chart for package
// chartkeys: the set of dotted key paths a user may set, with free-form
// subtrees marked. It reads a chart directory (Chart.yaml, values.yaml and
// templates/) as published upstream and writes only derived facts, never the
// chart's values.yaml or its comments.
//
// Usage (from the module root):
//
//	go run ./internal/testing/chartkeys/gen -chart <chart dir> \
//	    -source '<repo> <tag> <path>' > internal/testing/chartkeys/testdata/<name>-<version>.keys
//
// A key path is free-form (written "path *") when its default is a list, an
// empty map or null, when its name is a Kubernetes object field whose
// sub-keys are arbitrary (affinity, nodeSelector, resources, ...), when a
// child key is a label-style key (contains "." or "/"), or when it is the
// alias of a chart dependency (its keys belong to the sub-chart). Paths used
// by the templates (.Values.x.y) but absent from values.yaml are added as
// free-form, as are dependency conditions (e.g. nfd.enabled).
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// freeFormNames are keys whose value is a Kubernetes object or map with
// arbitrary sub-keys, whatever the chart's default holds.
var freeFormNames = map[string]bool{
	"affinity": true, "nodeSelector": true, "tolerations": true, "resources": true,
	"podAnnotations": true, "podLabels": true, "annotations": true, "labels": true,
	"additionalLabels": true, "additionalAnnotations": true, "extraArgs": true,
	"env": true, "envFrom": true, "securityContext": true, "podSecurityContext": true,
	"topologySpreadConstraints": true, "livenessProbe": true, "readinessProbe": true,
	"startupProbe": true, "dnsConfig": true, "extraVolumes": true, "extraVolumeMounts": true,
	"updateStrategy": true, "strategy": true, "serviceAnnotations": true,
	"deploymentAnnotations": true, "defaultTags": true, "vpcTags": true,
}

// valuesRef matches a values reference in a template.
var valuesRef = regexp.MustCompile(`\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)

type chartFile struct {
	Name         string `yaml:"name"`
	Version      string `yaml:"version"`
	AppVersion   string `yaml:"appVersion"`
	Dependencies []struct {
		Name      string `yaml:"name"`
		Alias     string `yaml:"alias"`
		Condition string `yaml:"condition"`
	} `yaml:"dependencies"`
}

func main() {
	chartDir := flag.String("chart", "", "chart directory (holds Chart.yaml, values.yaml, templates/)")
	source := flag.String("source", "", "where the chart came from: repo, tag, path")
	flag.Parse()
	if *chartDir == "" || *source == "" {
		fmt.Fprintln(os.Stderr, "usage: gen -chart <dir> -source '<repo> <tag> <path>'")
		os.Exit(2)
	}
	out, err := derive(*chartDir, *source)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}

// derive returns the key list file for the chart in dir.
func derive(dir, source string) (string, error) {
	var chart chartFile
	if err := readYAML(filepath.Join(dir, "Chart.yaml"), &chart); err != nil {
		return "", err
	}
	var values any
	if err := readYAML(filepath.Join(dir, "values.yaml"), &values); err != nil {
		return "", err
	}
	keys := map[string]bool{} // path -> free-form
	root, ok := asMap(values)
	if !ok && values != nil {
		return "", fmt.Errorf("values.yaml is not a map")
	}
	walk("", root, keys)

	for _, d := range chart.Dependencies {
		name := d.Alias
		if name == "" {
			name = d.Name
		}
		keys[name] = true
		for _, c := range strings.Split(d.Condition, ",") {
			if c = strings.TrimSpace(c); c != "" {
				addTemplatePath(c, keys)
			}
		}
	}

	err := filepath.WalkDir(filepath.Join(dir, "templates"), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range valuesRef.FindAllStringSubmatch(string(raw), -1) {
			addTemplatePath(strings.TrimPrefix(m[1], "."), keys)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return "", err
	}

	paths := make([]string, 0, len(keys))
	for p := range keys {
		if !underFreeForm(p, keys) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var b strings.Builder
	fmt.Fprintf(&b, "# chart: %s %s (appVersion %s)\n", chart.Name, chart.Version, chart.AppVersion)
	fmt.Fprintf(&b, "# source: %s\n", source)
	fmt.Fprintf(&b, "# derived by: go run ./internal/testing/chartkeys/gen (values.yaml keys + .Values references in templates/)\n")
	fmt.Fprintf(&b, "# format: one dotted values key path per line; \"<path> *\" means free-form (any value, any sub-keys)\n")
	for _, p := range paths {
		if keys[p] {
			fmt.Fprintf(&b, "%s *\n", p)
		} else {
			fmt.Fprintf(&b, "%s\n", p)
		}
	}
	return b.String(), nil
}

// walk records every key path under prefix.
func walk(prefix string, m map[string]any, keys map[string]bool) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		child, isMap := asMap(v)
		switch {
		case freeFormNames[k], v == nil, !isMap && isList(v), isMap && len(child) == 0, isMap && labelKeys(child):
			keys[p] = true
		case isMap:
			keys[p] = false
			walk(p, child, keys)
		default:
			keys[p] = false
		}
	}
}

// addTemplatePath records a path used by a template or a dependency
// condition unless values.yaml already covers it.
func addTemplatePath(p string, keys map[string]bool) {
	parts := strings.Split(p, ".")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], ".")
		free, known := keys[prefix]
		if known && free {
			return
		}
		if !known {
			// Intermediate paths become structured maps; the leaf is free-form
			// because its shape is unknown.
			keys[prefix] = i == len(parts)
		}
	}
}

// underFreeForm reports whether a strict ancestor of p is free-form.
func underFreeForm(p string, keys map[string]bool) bool {
	for i := strings.LastIndex(p, "."); i > 0; i = strings.LastIndex(p[:i], ".") {
		if keys[p[:i]] {
			return true
		}
	}
	return false
}

// labelKeys reports whether a map holds label-style keys.
func labelKeys(m map[string]any) bool {
	for k := range m {
		if strings.ContainsAny(k, "./") {
			return true
		}
	}
	return false
}

func asMap(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case map[string]any:
		return t, true
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[fmt.Sprint(k)] = e
		}
		return out, true
	}
	return nil, false
}

func isList(v any) bool {
	_, ok := v.([]any)
	return ok
}

func readYAML(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
