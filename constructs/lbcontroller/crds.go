package lbcontroller

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// crdFiles are the CustomResourceDefinitions of each supported controller
// version: crds/<version>/*.yaml, copies of the chart's crds/ folder at the
// controller's tag, each headed by a comment naming the tag and path.
//
//go:embed crds
var crdFiles embed.FS

// MaxCRDManifestBytes is the largest CRD, as compact JSON, New applies: the
// kubectl handler applies client-side, which stores the whole object in the
// kubectl.kubernetes.io/last-applied-configuration annotation, and the API
// server rejects annotations over 262144 bytes in total. Each CRD is its own
// manifest resource, so this also bounds the custom resource's request.
const MaxCRDManifestBytes = 262144

// CRDVersions returns the controller versions (git tags, e.g. "v3.5.0") with
// embedded CRDs, sorted.
func CRDVersions() []string {
	entries, err := crdFiles.ReadDir("crds")
	if err != nil {
		panic(fmt.Sprintf("lbcontroller: reading embedded CRDs: %v", err))
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// CRDs returns the CustomResourceDefinitions that the chart of controller
// version (e.g. "v3.5.0") ships in its crds/ folder, sorted by name. It
// returns an error naming the version and the versions that have CRDs when
// none are embedded for it, and an error naming the file when a file is not
// from that version's tag or holds anything but CRDs.
func CRDs(version string) ([]map[string]any, error) {
	dir := path.Join("crds", version)
	files, err := fs.Glob(crdFiles, dir+"/*.yaml")
	if err != nil || len(files) == 0 || version == "" || strings.ContainsAny(version, "/*?[\\") {
		return nil, fmt.Errorf("lbcontroller: no CRDs embedded for controller version %q (have: %s); add the chart's crds/*.yaml at that tag to constructs/lbcontroller/crds/%s/",
			version, strings.Join(CRDVersions(), ", "), version)
	}
	var out []map[string]any
	for _, f := range files {
		raw, err := crdFiles.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("lbcontroller: reading %s: %w", f, err)
		}
		header, _, _ := strings.Cut(string(raw), "\n---")
		if !strings.Contains(header, "tag "+version+" ") {
			return nil, fmt.Errorf("lbcontroller: %s does not name tag %s in its header (%q)", f, version, header)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var obj map[string]any
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("lbcontroller: parsing %s: %w", f, err)
			}
			if obj == nil {
				continue
			}
			name := CRDName(obj)
			if obj["apiVersion"] != "apiextensions.k8s.io/v1" || obj["kind"] != "CustomResourceDefinition" || name == "" {
				return nil, fmt.Errorf("lbcontroller: %s holds a %v %v named %q, want only apiextensions.k8s.io/v1 CustomResourceDefinitions", f, obj["apiVersion"], obj["kind"], name)
			}
			out = append(out, obj)
		}
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(CRDName(a), CRDName(b)) })
	return out, nil
}

// CRDName returns a CRD's metadata.name, e.g. "targetgroupbindings.elbv2.k8s.aws".
func CRDName(crd map[string]any) string {
	md, _ := crd["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return name
}
