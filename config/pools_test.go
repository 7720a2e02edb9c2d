package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/platform"
)

// withExtraPools is the default config plus one user pool per node class.
func withExtraPools() Karpenter {
	k := Default().Karpenter
	k.ExtraPools = []ExtraPool{
		{
			Name: "batch", NodeClass: "system", ConsolidationPolicy: "WhenEmpty",
			Pool:   Pool{CapacityTypes: []string{"spot"}, InstanceFamilies: []string{"c7i"}, CPULimit: 16, ConsolidateAfter: "5m"},
			Labels: map[string]string{"team": "ml"}, Taints: []string{"batch=true:NoSchedule"},
		},
		{
			Name: "big-gpu", NodeClass: "gpu", ConsolidationPolicy: "WhenEmpty",
			Pool:   Pool{CapacityTypes: []string{"on-demand"}, InstanceFamilies: []string{"g6e"}, GPULimit: 4, ConsolidateAfter: "10m"},
			Taints: []string{"model=large:NoSchedule"},
		},
	}
	return k
}

func TestNodePoolsApplyConfig(t *testing.T) {
	pools, err := nodePools(withExtraPools())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]platform.NodePool{}
	for _, p := range pools {
		byName[p.Name] = p
	}
	gpuTaint := platform.Taint{Key: "nvidia.com/gpu", Value: "present", Effect: "NoSchedule"}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"order: defaults, then extra pools", []string{pools[0].Name, pools[1].Name, pools[2].Name, pools[3].Name}, []string{"system", "gpu", "batch", "big-gpu"}},
		{"system capacity", byName["system"].CapacityTypes, []string{"on-demand"}},
		{"system sizes", byName["system"].InstanceSizes, []string{"xlarge", "2xlarge"}},
		{"system limits", [3]int{byName["system"].CPULimit, byName["system"].MemoryLimitGiB, byName["system"].GPULimit}, [3]int{32, 128, 0}},
		{"system consolidation", [3]string{byName["system"].ConsolidationPolicy, byName["system"].ConsolidateAfter, byName["system"].DisruptionBudget}, [3]string{"WhenEmptyOrUnderutilized", "30s", "10%"}},
		{"system labels", byName["system"].Labels, map[string]string{"node.kubernetes.io/purpose": "system"}},
		{"system has no taint", len(byName["system"].Taints), 0},
		{"gpu capacity", byName["gpu"].CapacityTypes, []string{"spot", "on-demand"}},
		{"gpu families", byName["gpu"].InstanceFamilies, []string{"g5", "g6", "g4dn"}},
		{"gpu consolidation: never bin-packs a node holding a model", [2]string{byName["gpu"].ConsolidationPolicy, byName["gpu"].DisruptionBudget}, [2]string{"WhenEmpty", "1"}},
		{"gpu labels", byName["gpu"].Labels, map[string]string{"node.kubernetes.io/purpose": "gpu-inference", "nvidia.com/gpu.present": "true"}},
		{"gpu taints", byName["gpu"].Taints, []platform.Taint{gpuTaint}},
		{"batch families", byName["batch"].InstanceFamilies, []string{"c7i"}},
		{"batch class", byName["batch"].NodeClass, "system"},
		{"batch inherits the system sizes", byName["batch"].InstanceSizes, []string{"xlarge", "2xlarge"}},
		{"batch consolidation policy is its own", byName["batch"].ConsolidationPolicy, "WhenEmpty"},
		{"batch labels keep the purpose", byName["batch"].Labels, map[string]string{"node.kubernetes.io/purpose": "system", "team": "ml"}},
		{"batch taints", byName["batch"].Taints, []platform.Taint{{Key: "batch", Value: "true", Effect: "NoSchedule"}}},
		{"big-gpu keeps the GPU taint", byName["big-gpu"].Taints, []platform.Taint{gpuTaint, {Key: "model", Value: "large", Effect: "NoSchedule"}}},
		{"big-gpu class", byName["big-gpu"].NodeClass, "gpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

// TestNodePoolsShareNothing: an extra pool starts from its class's defaults;
// what it adds must stay its own, in the same derivation (the default pool of
// its class) and in the next one.
func TestNodePoolsShareNothing(t *testing.T) {
	fresh, err := nodePools(Default().Karpenter)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot, not the pools: they could share memory with what is tested.
	want := fmt.Sprintf("%+v", fresh)
	got, err := nodePools(withExtraPools())
	if err != nil {
		t.Fatal(err)
	}
	// Writing through every pool must not reach another one.
	for i := range got {
		got[i].Labels["written"] = got[i].Name
		if len(got[i].Taints) > 0 {
			got[i].Taints[0].Value = "written-" + got[i].Name
		}
		if len(got[i].InstanceSizes) > 0 {
			got[i].InstanceSizes[0] = "written-" + got[i].Name
		}
	}
	for _, p := range got {
		if p.Labels["written"] != p.Name {
			t.Errorf("pool %s: label written by another pool: %q", p.Name, p.Labels["written"])
		}
		if len(p.Taints) > 0 && p.Taints[0].Value != "written-"+p.Name {
			t.Errorf("pool %s: taint written by another pool: %q", p.Name, p.Taints[0].Value)
		}
		if len(p.InstanceSizes) > 0 && p.InstanceSizes[0] != "written-"+p.Name {
			t.Errorf("pool %s: instance size written by another pool: %q", p.Name, p.InstanceSizes[0])
		}
	}
	again, err := nodePools(Default().Karpenter)
	if err != nil {
		t.Fatal(err)
	}
	if snapshot := fmt.Sprintf("%+v", again); snapshot != want {
		t.Errorf("writing through derived pools changed the class defaults:\n got %s\nwant %s", snapshot, want)
	}
}

func TestNodePoolsRejectBadLabelsAndTaints(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		taints []string
		want   string
	}{
		{"label key with a space", map[string]string{"my team": "ml"}, nil,
			`karpenter.extraPools[0].labels: key "my team" is not a Kubernetes label key`},
		{"label value too long", map[string]string{"team": strings.Repeat("a", 64)}, nil,
			`karpenter.extraPools[0].labels: team="` + strings.Repeat("a", 64) + `" is not a Kubernetes label value`},
		{"taint without effect", nil, []string{"batch=true"},
			`karpenter.extraPools[0].taints: "batch=true" is not "key=value:Effect"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Karpenter.ExtraPools = []ExtraPool{{
				Name: "batch", NodeClass: "system", ConsolidationPolicy: "WhenEmpty",
				Pool:   Pool{CapacityTypes: []string{"spot"}, InstanceFamilies: []string{"c7i"}, CPULimit: 16, ConsolidateAfter: "5m"},
				Labels: tt.labels, Taints: tt.taints,
			}}
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
