package karpenterpools

import (
	"fmt"
	"testing"

	"github.com/hybrid-llm/platform/platform"
)

// TestRenderNodePoolSharesNothing: writing through a rendered NodePool must
// not change the pool it was rendered from (config's derived pools are
// rendered again by every synth in the same process, e.g. in tests).
func TestRenderNodePoolSharesNothing(t *testing.T) {
	in := platform.NodePool{
		Name: "batch", NodeClass: SystemClass,
		CapacityTypes: []string{"spot"}, InstanceFamilies: []string{"c7i"}, InstanceSizes: []string{"xlarge"},
		Labels: map[string]string{"team": "ml"}, Taints: []platform.Taint{{Key: "batch", Effect: "NoSchedule"}},
		CPULimit: 16, ConsolidationPolicy: "WhenEmpty", ConsolidateAfter: "5m", DisruptionBudget: "1",
	}
	before := fmt.Sprintf("%+v", in)
	out := RenderNodePool(in)
	out.Spec.Template.Metadata.Labels["team"] = "written"
	for i := range out.Spec.Template.Spec.Requirements {
		out.Spec.Template.Spec.Requirements[i].Values[0] = "written"
	}
	out.Spec.Template.Spec.Taints[0].Key = "written"
	if after := fmt.Sprintf("%+v", in); after != before {
		t.Errorf("rendering shares memory with its input:\n got %s\nwant %s", after, before)
	}
}
