package config

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/platform"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
}

// TestCdkJSONMatchesDefault keeps cdk.json's hybridLlm object and Default()
// from drifting apart: what a user reads in cdk.json is what deploys.
func TestCdkJSONMatchesDefault(t *testing.T) {
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Context[ContextKey]; !ok {
		t.Fatalf("cdk.json has no %q context object", ContextKey)
	}
	got, err := Load(doc.Context)
	if err != nil {
		t.Fatalf("cdk.json does not load: %v", err)
	}
	want := loadedDefault(t)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cdk.json config differs from Default():\n got %+v\nwant %+v", got, want)
	}
}

// loadedDefault is Default() as Load returns it: validated, NodePools derived.
func loadedDefault(t *testing.T) Config {
	t.Helper()
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLoadRejects lists bad inputs, each with the exact message a user sees.
func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		want    string
	}{
		{"Kubernetes 1.34 (past kubectl skew below)", map[string]any{"hybridLlm.kubernetesVersion": "1.34"},
			"hybridLlm.kubernetesVersion 1.34 is not supported by the kubectl 1.36 layer and Karpenter 1.14.1; use 1.35–1.36"},
		{"Kubernetes 1.37 (past Karpenter 1.14)", map[string]any{"hybridLlm.kubernetesVersion": "1.37"},
			"hybridLlm.kubernetesVersion 1.37 is not supported by the kubectl 1.36 layer and Karpenter 1.14.1; use 1.35–1.36"},
		{"unknown identity", map[string]any{"hybridLlm.identity": "oidc"},
			`hybridLlm.identity "oidc" is not supported; use irsa or podIdentity`},
		{"identity in the wrong case", map[string]any{"hybridLlm.identity": "PodIdentity"},
			`hybridLlm.identity "PodIdentity" is not supported; use irsa or podIdentity`},
		{"Kubernetes version not a minor version", map[string]any{"hybridLlm.kubernetesVersion": "1.35.2"},
			`hybridLlm.kubernetesVersion "1.35.2" is not a Kubernetes minor version; use 1.35–1.36`},
		{"unknown top-level key", map[string]any{"hybridLlm.clustername": "x"},
			`loading config: hybridLlm.clustername: unknown field; allowed: account, adminPrincipalArn,`},
		{"unknown nested key", map[string]any{"hybridLlm.systemNodeGroup.minSzie": "3"},
			`hybridLlm.systemNodeGroup.minSzie: unknown field; allowed: desiredSize, diskSizeGiB, instanceTypes, maxSize, minSize`},
		{"unknown key in the cdk.json object", map[string]any{"hybridLlm": map[string]any{"network": map[string]any{"natGateway": 1.0}}},
			"hybridLlm.network.natGateway: unknown field; allowed: availabilityZones, flowLogRetentionDays, natGateways, vpcCidr"},
		{"unknown key in an extra pool", map[string]any{"hybridLlm.karpenter.extraPools": `[{"name":"batch","nodeClass":"system","cpulimit":4}]`},
			"hybridLlm.karpenter.extraPools[0].cpulimit: unknown field; allowed: capacityTypes, consolidateAfter, consolidationPolicy, cpuLimit,"},
		{"number that is not a number", map[string]any{"hybridLlm.systemNodeGroup.minSize": "two"},
			`hybridLlm.systemNodeGroup.minSize: "two" is not a whole number`},
		{"wrong type in cdk.json", map[string]any{"hybridLlm": map[string]any{"clusterName": 7.0}},
			`hybridLlm.clusterName: must be a string, got a number (7)`},
		{"boolean that is not a boolean", map[string]any{"hybridLlm.sweeper.enabled": "yes please"},
			`hybridLlm.sweeper.enabled: "yes please" is not true or false`},
		{"cluster name with uppercase", map[string]any{"hybridLlm.clusterName": "Hybrid_LLM"},
			`hybridLlm.clusterName "Hybrid_LLM" is invalid: use 1-40 lowercase letters, digits and '-', starting and ending with a letter or digit`},
		{"account not 12 digits", map[string]any{"hybridLlm.account": "12345"},
			`hybridLlm.account "12345" is invalid: use a 12-digit AWS account id, or leave it empty for the account of your credentials`},
		{"region typo", map[string]any{"hybridLlm.region": "us-west2"},
			`hybridLlm.region "us-west2" is invalid: use an AWS region code such as "us-west-2"`},
		{"AZ of another region", map[string]any{"hybridLlm.network.availabilityZones": "us-west-2a,us-east-1b"},
			`hybridLlm.network.availabilityZones: "us-east-1b" is not an availability zone of region "us-west-2" (e.g. "us-west-2a")`},
		{"one AZ", map[string]any{"hybridLlm.network.availabilityZones": "us-west-2a", "hybridLlm.network.natGateways": "1"},
			"hybridLlm.network.availabilityZones has 1 zones; use 2 to 6 (EKS needs subnets in at least 2 AZs)"},
		{"more NAT gateways than AZs", map[string]any{"hybridLlm.network.natGateways": "4"},
			"hybridLlm.network.natGateways 4 is out of range; use 1 (dev) to 3 (one per AZ, production): private subnets need a NAT gateway to pull images"},
		{"no NAT gateway", map[string]any{"hybridLlm.network.natGateways": "0"},
			"hybridLlm.network.natGateways 0 is out of range; use 1 (dev) to 3"},
		{"VPC CIDR too small", map[string]any{"hybridLlm.network.vpcCidr": "10.0.0.0/24"},
			`hybridLlm.network.vpcCidr "10.0.0.0/24" has a /24 prefix; use /16 to /20 (pods take VPC IPs)`},
		{"VPC CIDR not a network", map[string]any{"hybridLlm.network.vpcCidr": "10.0.0.1/16"},
			`hybridLlm.network.vpcCidr "10.0.0.1/16" is not an IPv4 network CIDR such as "10.0.0.0/16"`},
		{"flow log retention CloudWatch does not offer", map[string]any{"hybridLlm.network.flowLogRetentionDays": "10"},
			"hybridLlm.network.flowLogRetentionDays 10 is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30,"},
		{"control-plane log retention CloudWatch does not offer", map[string]any{"hybridLlm.controlPlaneLogRetentionDays": "100"},
			"hybridLlm.controlPlaneLogRetentionDays 100 is not a CloudWatch Logs retention; use one of 1, 3, 5,"},
		{"endpoint CIDR malformed", map[string]any{"hybridLlm.endpointPublicCidrs": "203.0.113.0"},
			`hybridLlm.endpointPublicCidrs: "203.0.113.0" is not an IPv4 network CIDR such as "203.0.113.0/24"`},
		{"no endpoint CIDR", map[string]any{"hybridLlm.endpointPublicCidrs": "[]"},
			"hybridLlm.endpointPublicCidrs is empty; list at least one CIDR allowed to reach the public API endpoint"},
		{"admin principal not an ARN", map[string]any{"hybridLlm.adminPrincipalArn": "Admin"},
			`hybridLlm.adminPrincipalArn "Admin" is not an IAM role or user ARN such as "arn:aws:iam::123456789012:role/Admin"`},
		{"system group of one host", map[string]any{"hybridLlm.systemNodeGroup.minSize": "1", "hybridLlm.systemNodeGroup.desiredSize": "1"},
			"hybridLlm.systemNodeGroup.minSize 1 is too small; use at least 2 (Karpenter and the Load Balancer Controller run 2 replicas on separate hosts)"},
		{"desired size above max", map[string]any{"hybridLlm.gpuNodeGroup.desiredSize": "5"},
			"hybridLlm.gpuNodeGroup.desiredSize 5 must be between minSize (0) and maxSize (2)"},
		{"max below min", map[string]any{"hybridLlm.systemNodeGroup.maxSize": "1"},
			"hybridLlm.systemNodeGroup.maxSize 1 must be at least 1 and at least minSize (2)"},
		{"CPU instance in the GPU group", map[string]any{"hybridLlm.gpuNodeGroup.instanceTypes": "m7i.xlarge"},
			`hybridLlm.gpuNodeGroup.instanceTypes: "m7i.xlarge" has no NVIDIA GPU; use a family of g4dn, g5, g6,`},
		{"GPU instance in the system group", map[string]any{"hybridLlm.systemNodeGroup.instanceTypes": "g5.xlarge"},
			`hybridLlm.systemNodeGroup.instanceTypes: "g5.xlarge" is a GPU instance; the system group runs controllers on CPU instances`},
		{"malformed instance type", map[string]any{"hybridLlm.systemNodeGroup.instanceTypes": "m7i-xlarge"},
			`hybridLlm.systemNodeGroup.instanceTypes: "m7i-xlarge" is not an EC2 instance type such as "m7i.xlarge"`},
		{"tiny disk", map[string]any{"hybridLlm.gpuNodeGroup.diskSizeGiB": "8"},
			"hybridLlm.gpuNodeGroup.diskSizeGiB 8 is out of range; use 20 to 16384"},
		{"versions are not configuration", map[string]any{"hybridLlm.karpenter.version": "1.15.0"},
			`hybridLlm.karpenter.version: unknown field; allowed: amiAlias, extraPools, gpuPool, replicas, systemPool`},
		{"unpinned AMI alias", map[string]any{"hybridLlm.karpenter.amiAlias": "al2023@latest"},
			`hybridLlm.karpenter.amiAlias "al2023@latest" is invalid: use a pinned Amazon Linux 2023 release such as`},
		{"AL2 AMI alias", map[string]any{"hybridLlm.karpenter.amiAlias": "al2@v20260714"},
			"AL2 AMIs do not exist past Kubernetes 1.32"},
		{"spot misspelled", map[string]any{"hybridLlm.karpenter.gpuPool.capacityTypes": "spot,ondemand"},
			`hybridLlm.karpenter.gpuPool.capacityTypes: "ondemand" is not a capacity type; use "on-demand" or "spot"`},
		{"GPU pool without a GPU limit", map[string]any{"hybridLlm.karpenter.gpuPool.gpuLimit": "0"},
			"hybridLlm.karpenter.gpuPool.gpuLimit is 0; a GPU pool needs a gpuLimit (e.g. 8) to cap spend"},
		{"consolidateAfter in days", map[string]any{"hybridLlm.karpenter.systemPool.consolidateAfter": "1d"},
			`hybridLlm.karpenter.systemPool.consolidateAfter "1d" is not a duration such as "30s", "1m" or "1h30m"`},
		{"extra pool reusing a default name", map[string]any{"hybridLlm.karpenter.extraPools": `[{"name":"gpu","nodeClass":"gpu","capacityTypes":["spot"],"instanceFamilies":["g6e"],"gpuLimit":4,"consolidateAfter":"5m","consolidationPolicy":"WhenEmpty"}]`},
			`hybridLlm.karpenter.extraPools[0].name "gpu" is already used; NodePool names must be unique and not "system" or "gpu"`},
		{"extra pool with an unknown node class", map[string]any{"hybridLlm.karpenter.extraPools": `[{"name":"batch","nodeClass":"arm","capacityTypes":["spot"],"instanceFamilies":["c7i"],"cpuLimit":16,"consolidateAfter":"5m","consolidationPolicy":"WhenEmpty"}]`},
			`hybridLlm.karpenter.extraPools[0].nodeClass "arm" is unknown; use "system" or "gpu"`},
		{"extra pool with a bad taint", map[string]any{"hybridLlm.karpenter.extraPools": `[{"name":"batch","nodeClass":"system","capacityTypes":["spot"],"instanceFamilies":["c7i"],"cpuLimit":16,"consolidateAfter":"5m","consolidationPolicy":"WhenEmpty","taints":["batch=true:NoScheduel"]}]`},
			`hybridLlm.karpenter.extraPools[0].taints: "batch=true:NoScheduel" is not "key=value:Effect" with Effect NoSchedule, PreferNoSchedule or NoExecute`},
		{"unknown key in an extra pool from cdk.json", map[string]any{"hybridLlm": map[string]any{"karpenter": map[string]any{"extraPools": []any{map[string]any{"name": "batch", "Labels": map[string]any{}}}}}},
			"hybridLlm.karpenter.extraPools[0].Labels: unknown field; allowed: capacityTypes, consolidateAfter, consolidationPolicy, cpuLimit,"},
		{"wrong type inside an extra pool", map[string]any{"hybridLlm.karpenter.extraPools": `[{"name":"batch","labels":{"team":7}}]`},
			"hybridLlm.karpenter.extraPools[0].labels.team: must be a string, got a number (7)"},
		{"object where a number belongs", map[string]any{"hybridLlm.network.natGateways": map[string]any{"n": 1.0}},
			"hybridLlm.network.natGateways: must be a whole number, got an object"},
		{"dotted key through a value", map[string]any{"hybridLlm.clusterName.first": "a"},
			"hybridLlm.clusterName.first: hybridLlm.clusterName is not an object"},
		{"replicas zero", map[string]any{"hybridLlm.karpenter.replicas": "0"},
			"hybridLlm.karpenter.replicas 0 is out of range; use 1 to 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.context)
			if err == nil {
				t.Fatalf("Load(%v) = nil error, want %q", tt.context, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%v) error:\n%v\nwant it to contain:\n%s", tt.context, err, tt.want)
			}
		})
	}
}

func TestLoadAppliesOverrides(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		check   func(Config) bool
	}{
		{"number from the CLI", map[string]any{"hybridLlm.systemNodeGroup.minSize": "3", "hybridLlm.systemNodeGroup.desiredSize": "3"},
			func(c Config) bool { return c.SystemNodeGroup.MinSize == 3 && c.SystemNodeGroup.DesiredSize == 3 }},
		{"comma list from the CLI", map[string]any{"hybridLlm.endpointPublicCidrs": "203.0.113.0/24, 198.51.100.0/24"},
			func(c Config) bool {
				return reflect.DeepEqual(c.EndpointPublicCidrs, []string{"203.0.113.0/24", "198.51.100.0/24"})
			}},
		{"JSON list from the CLI", map[string]any{"hybridLlm.gpuNodeGroup.instanceTypes": `["g6e.2xlarge"]`},
			func(c Config) bool { return reflect.DeepEqual(c.GPUNodeGroup.InstanceTypes, []string{"g6e.2xlarge"}) }},
		{"boolean from the CLI", map[string]any{"hybridLlm.sweeper.enabled": "false"},
			func(c Config) bool { return !c.Sweeper.Enabled }},
		{"whole object as a JSON string (-c hybridLlm={...})", map[string]any{"hybridLlm": `{"clusterName":"llm-dev","network":{"natGateways":1}}`},
			func(c Config) bool {
				return c.ClusterName == "llm-dev" && c.Network.NatGateways == 1 && c.Network.VpcCidr == "10.0.0.0/16"
			}},
		{"dotted override wins over the object", map[string]any{"hybridLlm": map[string]any{"clusterName": "a"}, "hybridLlm.clusterName": "b"},
			func(c Config) bool { return c.ClusterName == "b" }},
		{"extra pool", map[string]any{"hybridLlm.karpenter.extraPools": `[{"name":"batch","nodeClass":"system","capacityTypes":["spot"],"instanceFamilies":["c7i"],"cpuLimit":16,"consolidateAfter":"5m","consolidationPolicy":"WhenEmpty","labels":{"team":"ml"},"taints":["batch=true:NoSchedule"]}]`},
			func(c Config) bool {
				p := c.Karpenter.ExtraPools
				return len(p) == 1 && p[0].Name == "batch" && p[0].CPULimit == 16 && p[0].Labels["team"] == "ml"
			}},
		{"other context keys are ignored", map[string]any{"@aws-cdk/core:checkSecretUsage": true, "hybridLlmX": 1.0},
			func(c Config) bool { return reflect.DeepEqual(c, loadedDefault(t)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.context)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("Load(%v) = %+v", tt.context, c)
			}
		})
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	c := Default()
	c.ClusterName = ""
	c.KubernetesVersion = "1.20"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "clusterName") || !strings.Contains(err.Error(), "kubernetesVersion") {
		t.Errorf("Validate() = %v, want both errors", err)
	}
}

func TestParseTaint(t *testing.T) {
	tests := []struct {
		in      string
		want    platform.Taint
		wantErr bool
	}{
		{"batch=true:NoSchedule", platform.Taint{Key: "batch", Value: "true", Effect: "NoSchedule"}, false},
		{"nvidia.com/gpu:NoExecute", platform.Taint{Key: "nvidia.com/gpu", Effect: "NoExecute"}, false},
		{"dedicated=:PreferNoSchedule", platform.Taint{Key: "dedicated", Effect: "PreferNoSchedule"}, false},
		{"batch=true:NoScheduel", platform.Taint{}, true},
		{"batch=true", platform.Taint{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTaint(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseTaint(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
