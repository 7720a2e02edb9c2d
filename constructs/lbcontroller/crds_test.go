package lbcontroller_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/constructs/lbcontroller"
)

// TestCRDs: the embedded CRDs of the pinned controller version are the seven
// the chart 3.5.0 ships in crds/ (crds.yaml and gateway-crds.yaml), and each
// fits the annotation that client-side kubectl apply writes.
func TestCRDs(t *testing.T) {
	crds, err := lbcontroller.CRDs(pinned)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, crd := range crds {
		names = append(names, lbcontroller.CRDName(crd))
		raw, err := json.Marshal(crd)
		if err != nil {
			t.Fatalf("%s: %v", lbcontroller.CRDName(crd), err)
		}
		if len(raw) >= lbcontroller.MaxCRDManifestBytes {
			t.Errorf("%s is %d bytes as JSON, at or over %d", lbcontroller.CRDName(crd), len(raw), lbcontroller.MaxCRDManifestBytes)
		}
		spec, _ := crd["spec"].(map[string]any)
		if group, _ := spec["group"].(string); !strings.HasSuffix(lbcontroller.CRDName(crd), "."+group) {
			t.Errorf("%s: spec.group %q is not the name's suffix", lbcontroller.CRDName(crd), group)
		}
	}
	want := []string{
		"albtargetcontrolconfigs.elbv2.k8s.aws",
		"globalaccelerators.aga.k8s.aws",
		"ingressclassparams.elbv2.k8s.aws",
		"listenerruleconfigurations.gateway.k8s.aws",
		"loadbalancerconfigurations.gateway.k8s.aws",
		"targetgroupbindings.elbv2.k8s.aws",
		"targetgroupconfigurations.gateway.k8s.aws",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("CRDs(%q) = %v, want %v", pinned, names, want)
	}
	if got := lbcontroller.CRDVersions(); !reflect.DeepEqual(got, []string{pinned}) {
		t.Errorf("CRDVersions() = %v, want [%s]", got, pinned)
	}
}

func TestCRDsErrors(t *testing.T) {
	tests := []struct {
		name, version, want string
	}{
		{"version without CRDs", "v3.6.0", `lbcontroller: no CRDs embedded for controller version "v3.6.0" (have: v3.5.0); add the chart's crds/*.yaml at that tag to constructs/lbcontroller/crds/v3.6.0/`},
		{"chart version instead of controller tag", "3.5.0", `lbcontroller: no CRDs embedded for controller version "3.5.0" (have: v3.5.0); add the chart's crds/*.yaml at that tag to constructs/lbcontroller/crds/3.5.0/`},
		{"empty", "", `lbcontroller: no CRDs embedded for controller version "" (have: v3.5.0); add the chart's crds/*.yaml at that tag to constructs/lbcontroller/crds//`},
		{"path pattern", "v3.*", `lbcontroller: no CRDs embedded for controller version "v3.*" (have: v3.5.0); add the chart's crds/*.yaml at that tag to constructs/lbcontroller/crds/v3.*/`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crds, err := lbcontroller.CRDs(tt.version)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("CRDs(%q) error = %v, want %q", tt.version, err, tt.want)
			}
			if crds != nil {
				t.Errorf("CRDs(%q) returned CRDs with the error", tt.version)
			}
		})
	}
}
