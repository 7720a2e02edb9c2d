// Package chartkeys is a test helper: it checks that every key set in Helm
// values exists in the real chart, so a typo ("settings.clusterNme") or a key
// a chart version dropped fails a test instead of being silently ignored by
// Helm.
//
// The key lists are facts derived from upstream charts, one file per chart
// version: testdata/<chart>-<version>.keys, each headed by the source repo,
// tag and path. They are derived by ./gen (see gen.sh for the exact commands);
// the upstream values.yaml files themselves are not kept. A chart version
// without a key list is an error, so bumping a chart version without
// deriving its key list fails loudly.
//
// To derive a key list for a new chart version, put the chart directory
// somewhere (e.g. `helm pull <repo>/<chart> --version <v> --untar`, or
// `git archive <tag> <path>` of the chart's repository), then run
//
//	go run ./internal/testing/chartkeys/gen -chart <dir> -source '<repo> <tag> <path>' \
//	    > internal/testing/chartkeys/testdata/<chart>-<version>.keys
package chartkeys

import (
	"bufio"
	"embed"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

//go:embed testdata/*.keys
var keyFiles embed.FS

// keyList is the parsed key list of one chart version.
type keyList struct {
	source string
	// keys maps each known dotted path to whether it is free-form.
	keys map[string]bool
}

// Available returns the chart versions that have a key list, as
// "<chart> <version>", sorted.
func Available() []string {
	entries, err := keyFiles.ReadDir("testdata")
	if err != nil {
		panic(fmt.Sprintf("chartkeys: reading embedded key lists: %v", err))
	}
	var out []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".keys")
		if i := strings.LastIndex(name, "-"); i > 0 {
			out = append(out, name[:i]+" "+name[i+1:])
		}
	}
	sort.Strings(out)
	return out
}

// load reads the key list of chart at version.
func load(chart, version string) (*keyList, error) {
	raw, err := keyFiles.ReadFile("testdata/" + chart + "-" + version + ".keys")
	if err != nil {
		return nil, fmt.Errorf("chartkeys: no key list for chart %q version %q (have: %s); derive one with go run ./internal/testing/chartkeys/gen",
			chart, version, strings.Join(Available(), ", "))
	}
	kl := &keyList{keys: map[string]bool{}}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "":
		case strings.HasPrefix(text, "# source: "):
			kl.source = strings.TrimPrefix(text, "# source: ")
		case strings.HasPrefix(text, "#"):
		case strings.HasSuffix(text, " *"):
			kl.keys[strings.TrimSuffix(text, " *")] = true
		case strings.ContainsAny(text, " \t"):
			return nil, fmt.Errorf("chartkeys: %s-%s.keys line %d: malformed %q", chart, version, line, text)
		default:
			kl.keys[text] = false
		}
	}
	return kl, nil
}

// Keys returns the known values key paths of chart at version, sorted;
// free-form paths (any value, any sub-keys) end in " *".
func Keys(chart, version string) ([]string, error) {
	kl, err := load(chart, version)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(kl.keys))
	for k, free := range kl.keys {
		if free {
			k += " *"
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// Check returns an error listing every key path in values that chart at
// version does not have, or an error if no key list exists for that chart
// version. Keys below a free-form path (nodeSelector, resources, ...) are
// not checked; list values are not descended into.
func Check(chart, version string, values map[string]any) error {
	kl, err := load(chart, version)
	if err != nil {
		return err
	}
	var unknown []string
	kl.walk("", values, &unknown)
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("chartkeys: %s %s has no values key %s (source: %s)",
		chart, version, strings.Join(unknown, ", "), kl.source)
}

// walk collects unknown paths below prefix.
func (kl *keyList) walk(prefix string, m map[string]any, unknown *[]string) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		free, known := kl.keys[p]
		switch {
		case !known:
			*unknown = append(*unknown, p)
		case free:
		default:
			if child, ok := asMap(v); ok {
				kl.walk(p, child, unknown)
			}
		}
	}
}

// asMap returns v as a map with string keys if it is one (including maps of
// other value types and pointers to maps).
func asMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, true
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, false
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for _, k := range rv.MapKeys() {
		out[k.String()] = rv.MapIndex(k).Interface()
	}
	return out, true
}
