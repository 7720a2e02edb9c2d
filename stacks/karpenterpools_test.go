package stacks

import (
	"reflect"
	"testing"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/constructs/karpenterpools"
	"github.com/hybrid-llm/platform/internal/crdvalidate"
)

// crd loads one Karpenter v1.14.1 CRD kept as test data by karpenterpools.
func crd(t *testing.T, file string) *crdvalidate.CRD {
	t.Helper()
	c, err := crdvalidate.Load("../constructs/karpenterpools/testdata/crds/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withExtraPool is the default config plus one user pool per node class.
func withExtraPool() config.Karpenter {
	k := config.Default().Karpenter
	k.ExtraPools = []config.ExtraPool{
		{
			Name: "batch", NodeClass: "system", ConsolidationPolicy: "WhenEmpty",
			Pool:   config.Pool{CapacityTypes: []string{"spot"}, InstanceFamilies: []string{"c7i"}, CPULimit: 16, ConsolidateAfter: "5m"},
			Labels: map[string]string{"team": "ml"}, Taints: []string{"batch=true:NoSchedule"},
		},
		{
			Name: "big-gpu", NodeClass: "gpu", ConsolidationPolicy: "WhenEmpty",
			Pool: config.Pool{CapacityTypes: []string{"on-demand"}, InstanceFamilies: []string{"g6e"}, GPULimit: 4, ConsolidateAfter: "10m"},
		},
	}
	return k
}

// TestNodePoolsFromConfigAreValid renders the pools the add-ons stack would
// deploy and validates them as the API server would (Karpenter v1.14.1 CRDs:
// schema and CEL rules) and with karpenterpools.Validate.
func TestNodePoolsFromConfigAreValid(t *testing.T) {
	nodePoolCRD := crd(t, "karpenter.sh_nodepools.yaml")
	classCRD := crd(t, "karpenter.k8s.aws_ec2nodeclasses.yaml")
	classes := karpenterpools.DefaultEC2NodeClasses(karpenterpools.NodeClassInput{
		ClusterName: "hybrid-llm", ClusterSecurityGroupID: "sg-0123456789abcdef0",
		NodeRoleName: "KarpenterNodeRole", AMIVersion: "v20260714",
	})
	tests := []struct {
		name string
		k    config.Karpenter
	}{
		{"defaults", config.Default().Karpenter},
		{"with extra pools", withExtraPool()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pools := nodePools(tt.k)
			if err := karpenterpools.Validate("1.35", classes, pools); err != nil {
				t.Errorf("karpenterpools.Validate: %v", err)
			}
			for _, p := range pools {
				m, err := karpenterpools.ToManifest(p)
				if err != nil {
					t.Fatal(err)
				}
				if _, errs := nodePoolCRD.ValidateObject(m); len(errs) > 0 {
					t.Errorf("NodePool %s: %v", p.Metadata.Name, errs.ToAggregate())
				}
			}
			for _, c := range classes {
				m, err := karpenterpools.ToManifest(c)
				if err != nil {
					t.Fatal(err)
				}
				if _, errs := classCRD.ValidateObject(m); len(errs) > 0 {
					t.Errorf("EC2NodeClass %s: %v", c.Metadata.Name, errs.ToAggregate())
				}
			}
		})
	}
}

func TestNodePoolsApplyConfig(t *testing.T) {
	pools := nodePools(withExtraPool())
	byName := map[string]karpenterpools.NodePool{}
	for _, p := range pools {
		byName[p.Metadata.Name] = p
	}
	req := func(p karpenterpools.NodePool, key string) []string {
		for _, r := range p.Spec.Template.Spec.Requirements {
			if r.Key == key {
				return r.Values
			}
		}
		return nil
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"system capacity", req(byName["system"], karpenterpools.LabelCapacityType), []string{"on-demand"}},
		{"system limits", byName["system"].Spec.Limits, map[string]string{"cpu": "32", "memory": "128Gi"}},
		{"system consolidation", *byName["system"].Spec.Disruption, karpenterpools.Disruption{ConsolidationPolicy: "WhenEmptyOrUnderutilized", ConsolidateAfter: "30s", Budgets: []karpenterpools.Budget{{Nodes: "10%"}}}},
		{"gpu capacity", req(byName["gpu"], karpenterpools.LabelCapacityType), []string{"spot", "on-demand"}},
		{"gpu families", req(byName["gpu"], karpenterpools.LabelInstanceFamily), []string{"g5", "g6", "g4dn"}},
		{"gpu limits", byName["gpu"].Spec.Limits, map[string]string{"nvidia.com/gpu": "8"}},
		{"gpu consolidation: never bin-packs a node holding a model", byName["gpu"].Spec.Disruption.ConsolidationPolicy, "WhenEmpty"},
		{"batch families", req(byName["batch"], karpenterpools.LabelInstanceFamily), []string{"c7i"}},
		{"batch class", byName["batch"].Spec.Template.Spec.NodeClassRef.Name, "system"},
		{"batch limits", byName["batch"].Spec.Limits, map[string]string{"cpu": "16"}},
		{"batch labels keep the purpose", byName["batch"].Spec.Template.Metadata.Labels, map[string]string{"node.kubernetes.io/purpose": "system", "team": "ml"}},
		{"batch taints", byName["batch"].Spec.Template.Spec.Taints, []karpenterpools.Taint{{Key: "batch", Value: "true", Effect: "NoSchedule"}}},
		{"big-gpu keeps the GPU taint", byName["big-gpu"].Spec.Template.Spec.Taints, []karpenterpools.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: "NoSchedule"}}},
		{"big-gpu class", byName["big-gpu"].Spec.Template.Spec.NodeClassRef.Name, "gpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
	// Tuning an extra pool must not leak into the default it started from.
	if fresh := nodePools(config.Default().Karpenter); !reflect.DeepEqual(fresh[0].Spec.Template.Metadata.Labels, map[string]string{"node.kubernetes.io/purpose": "system"}) {
		t.Errorf("default system pool labels changed: %v", fresh[0].Spec.Template.Metadata.Labels)
	}
}

func TestRetentionCoversEveryConfigValue(t *testing.T) {
	for _, d := range config.LogRetentionDays {
		if _, ok := retentionByDays[d]; !ok {
			t.Errorf("config allows %d days, which has no CDK enum", d)
		}
	}
	if len(retentionByDays) != len(config.LogRetentionDays) {
		t.Errorf("%d enum entries, %d config values", len(retentionByDays), len(config.LogRetentionDays))
	}
}
