package main

import (
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

func TestNodeGroups(t *testing.T) {
	tpl := defaults.templates[nodeGroupsStackID]
	tests := []struct {
		name  string
		props map[string]any
	}{
		{"system: AL2023 on-demand CPU, 2 hosts minimum, labelled", map[string]any{
			"AmiType":       "AL2023_x86_64_STANDARD",
			"CapacityType":  "ON_DEMAND",
			"InstanceTypes": []any{"m7i.xlarge", "m6i.xlarge"},
			"ScalingConfig": map[string]any{"MinSize": 2, "DesiredSize": 2, "MaxSize": 4},
			"DiskSize":      50,
			"Labels":        map[string]any{"node.kubernetes.io/purpose": "system"},
			"Version":       config.DefaultKubernetesVersion,
		}},
		{"gpu: AL2023 NVIDIA, scaled to zero, tainted and labelled", map[string]any{
			"AmiType":       "AL2023_x86_64_NVIDIA",
			"InstanceTypes": []any{"g5.xlarge", "g6.xlarge", "g4dn.xlarge"},
			"ScalingConfig": map[string]any{"MinSize": 0, "DesiredSize": 0, "MaxSize": 2},
			"DiskSize":      200,
			"Labels":        map[string]any{"node.kubernetes.io/purpose": "gpu-inference", "nvidia.com/gpu.present": "true"},
			"Taints":        []any{map[string]any{"Key": "nvidia.com/gpu", "Value": "present", "Effect": "NO_SCHEDULE"}},
			"Version":       config.DefaultKubernetesVersion,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdktest.Check(t, tt.name, func() { tpl.HasResourceProperties(jsii.String("AWS::EKS::Nodegroup"), &tt.props) })
		})
	}
	t.Run("only the GPU group is tainted", func(t *testing.T) {
		tainted := 0
		for _, ng := range cdktest.Resources(t, tpl, "AWS::EKS::Nodegroup") {
			if _, ok := cdktest.Props(ng)["Taints"]; ok {
				tainted++
			}
		}
		if tainted != 1 {
			t.Errorf("%d tainted node groups, want 1", tainted)
		}
	})
}

func TestNodeGroupSizesFromConfig(t *testing.T) {
	s := mustSynthesize(t, map[string]any{
		"hybridLlm.systemNodeGroup.minSize":     "3",
		"hybridLlm.systemNodeGroup.desiredSize": "3",
		"hybridLlm.gpuNodeGroup.desiredSize":    "1",
		"hybridLlm.gpuNodeGroup.minSize":        "1",
	})
	tpl := s.templates[nodeGroupsStackID]
	cdktest.Check(t, "system min 3", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EKS::Nodegroup"), &map[string]any{
			"AmiType": "AL2023_x86_64_STANDARD", "ScalingConfig": map[string]any{"MinSize": 3, "DesiredSize": 3, "MaxSize": 4},
		})
	})
	cdktest.Check(t, "gpu baseline 1", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EKS::Nodegroup"), &map[string]any{
			"AmiType": "AL2023_x86_64_NVIDIA", "ScalingConfig": map[string]any{"MinSize": 1, "DesiredSize": 1, "MaxSize": 2},
		})
	})
}
