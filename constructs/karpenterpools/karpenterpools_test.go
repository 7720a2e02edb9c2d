package karpenterpools

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

type fixture struct {
	cluster        awseksv2.Cluster
	clusterStack   awscdk.Stack
	addonsStack    awscdk.Stack
	crdChart       awseksv2.HelmChart
	controllerChrt awseksv2.HelmChart
}

// newFixture builds a cluster stack and an addons stack holding the two
// Karpenter charts, as the app does.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	a := cdktest.NewClusterApp(t, &cdktest.ClusterAppOptions{ClusterName: "hybrid-llm"})
	f := &fixture{cluster: a.Cluster, clusterStack: a.ClusterStack, addonsStack: a.Stack}
	chart := func(id, name string) awseksv2.HelmChart {
		return awseksv2.NewHelmChart(f.addonsStack, jsii.String(id), &awseksv2.HelmChartProps{
			Cluster:    f.cluster,
			Chart:      jsii.String(name),
			Repository: jsii.String("oci://public.ecr.aws/karpenter/" + name),
			Version:    jsii.String("1.14.1"),
			Namespace:  jsii.String("karpenter"),
		})
	}
	f.crdChart = chart("KarpenterCrd", "karpenter-crd")
	f.controllerChrt = chart("Karpenter", "karpenter")
	f.controllerChrt.Node().AddDependency(f.crdChart)
	return f
}

func (f *fixture) props(in NodeClassInput) *Props {
	return &Props{
		Cluster:           f.cluster,
		KubernetesVersion: "1.35",
		NodeClasses:       DefaultEC2NodeClasses(in),
		NodePools:         configuredPools(),
		DependsOn:         []constructs.IDependable{f.crdChart, f.controllerChrt},
	}
}

type renderedManifest struct {
	logicalID string
	dependsOn []string
	object    map[string]any
}

// manifests returns the KubernetesManifest resources of tpl keyed by
// "<kind>/<name>"; the Manifest property must be a plain JSON string (no
// tokens in the inputs).
func manifests(t *testing.T, tpl assertions.Template) map[string]renderedManifest {
	t.Helper()
	out := map[string]renderedManifest{}
	for id, res := range *tpl.FindResources(awseksv2.KubernetesManifest_RESOURCE_TYPE(), nil) {
		r := *res
		text, ok := r["Properties"].(map[string]any)["Manifest"].(string)
		if !ok {
			t.Fatalf("%s: Manifest is not a plain string: %v", id, r["Properties"])
		}
		var objs []map[string]any
		if err := json.Unmarshal([]byte(text), &objs); err != nil || len(objs) != 1 {
			t.Fatalf("%s: Manifest %s: want one object (%v)", id, text, err)
		}
		var deps []string
		for _, d := range asSlice(r["DependsOn"]) {
			deps = append(deps, d.(string))
		}
		meta := objs[0]["metadata"].(map[string]any)
		out[fmt.Sprintf("%s/%s", objs[0]["kind"], meta["name"])] = renderedManifest{id, deps, objs[0]}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// chartIDs returns the logical ids of the HelmCharts of tpl by chart name.
func chartIDs(tpl assertions.Template) map[string]string {
	out := map[string]string{}
	for id, res := range *tpl.FindResources(awseksv2.HelmChart_RESOURCE_TYPE(), nil) {
		out[(*res)["Properties"].(map[string]any)["Chart"].(string)] = id
	}
	return out
}

func TestManifestsInCallersStack(t *testing.T) {
	f := newFixture(t)
	pools := New(f.addonsStack, "KarpenterPools", f.props(testInput))
	addons := assertions.Template_FromStack(f.addonsStack, nil)
	cluster := assertions.Template_FromStack(f.clusterStack, nil)

	cdktest.Check(t, "addons stack has 4 manifests", func() {
		addons.ResourceCountIs(awseksv2.KubernetesManifest_RESOURCE_TYPE(), jsii.Number(4))
	})
	cdktest.Check(t, "cluster stack has none", func() {
		cluster.ResourceCountIs(awseksv2.KubernetesManifest_RESOURCE_TYPE(), jsii.Number(0))
	})
	cdktest.Check(t, "manifests use the cluster and apply with overwrite", func() {
		addons.AllResourcesProperties(awseksv2.KubernetesManifest_RESOURCE_TYPE(), assertions.Match_ObjectLike(&map[string]any{
			"ClusterName": map[string]any{"Fn::ImportValue": assertions.Match_AnyValue()},
			"Overwrite":   true,
		}))
	})
	for _, name := range []string{SystemClass, GPUClass} {
		if pools.NodePools[name] == nil || pools.NodeClasses[name] == nil {
			t.Errorf("Pools.NodePools/NodeClasses[%q] missing: %v %v", name, pools.NodePools, pools.NodeClasses)
		}
	}
}

func TestManifestDependencies(t *testing.T) {
	f := newFixture(t)
	New(f.addonsStack, "KarpenterPools", f.props(testInput))
	tpl := assertions.Template_FromStack(f.addonsStack, nil)
	charts := chartIDs(tpl)
	got := manifests(t, tpl)
	if len(got) != 4 {
		t.Fatalf("got manifests %v, want 2 EC2NodeClasses and 2 NodePools", got)
	}
	for key, m := range got {
		for _, chart := range []string{"karpenter-crd", "karpenter"} {
			t.Run(key+" depends on chart "+chart, func(t *testing.T) {
				if !slices.Contains(m.dependsOn, charts[chart]) {
					t.Errorf("DependsOn %v lacks %s (%s)", m.dependsOn, charts[chart], chart)
				}
			})
		}
	}
	for _, name := range []string{SystemClass, GPUClass} {
		t.Run("NodePool/"+name+" depends on its EC2NodeClass", func(t *testing.T) {
			pool, class := got["NodePool/"+name], got["EC2NodeClass/"+name]
			if !slices.Contains(pool.dependsOn, class.logicalID) {
				t.Errorf("NodePool %s DependsOn %v lacks EC2NodeClass %s", name, pool.dependsOn, class.logicalID)
			}
		})
		t.Run("EC2NodeClass/"+name+" does not depend on a NodePool", func(t *testing.T) {
			for _, d := range got["EC2NodeClass/"+name].dependsOn {
				for key, m := range got {
					if m.logicalID == d {
						t.Errorf("EC2NodeClass %s depends on %s", name, key)
					}
				}
			}
		})
	}
}

// TestRenderedManifestsPassCRDs validates what CloudFormation will hand to
// kubectl against the Karpenter v1.14.1 CRDs.
func TestRenderedManifestsPassCRDs(t *testing.T) {
	f := newFixture(t)
	New(f.addonsStack, "KarpenterPools", f.props(testInput))
	pools, classes := crds(t)
	for key, m := range manifests(t, assertions.Template_FromStack(f.addonsStack, nil)) {
		t.Run(key, func(t *testing.T) {
			crd := classes
			if m.object["kind"] == NodePoolKind {
				crd = pools
			}
			if _, errs := crd.ValidateObject(m.object); len(errs) > 0 {
				t.Errorf("rejected by the v1.14.1 CRD: %v", errs)
			}
		})
	}
}

func TestRenderedDefaults(t *testing.T) {
	f := newFixture(t)
	New(f.addonsStack, "KarpenterPools", f.props(testInput))
	got := manifests(t, assertions.Template_FromStack(f.addonsStack, nil))
	field := func(key string, path ...string) any {
		var v any = got[key].object
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v
	}
	tests := []struct {
		key  string
		path []string
		want string
	}{
		{"EC2NodeClass/system", []string{"spec", "amiSelectorTerms"}, `[{"alias":"al2023@v20260714"}]`},
		{"EC2NodeClass/gpu", []string{"spec", "amiSelectorTerms"}, `[{"alias":"al2023@v20260714"}]`},
		{"EC2NodeClass/gpu", []string{"spec", "subnetSelectorTerms"}, `[{"tags":{"karpenter.sh/discovery":"hybrid-llm"}}]`},
		{"EC2NodeClass/gpu", []string{"spec", "securityGroupSelectorTerms"}, `[{"id":"sg-0123456789abcdef0"}]`},
		{"EC2NodeClass/gpu", []string{"spec", "role"}, `"KarpenterNodeRole-hybrid-llm"`},
		{"EC2NodeClass/gpu", []string{"spec", "instanceStorePolicy"}, `"RAID0"`},
		{"EC2NodeClass/gpu", []string{"spec", "blockDeviceMappings"}, `[{"deviceName":"/dev/xvda","ebs":{"deleteOnTermination":true,"encrypted":true,"volumeSize":"200Gi","volumeType":"gp3"},"rootVolume":true}]`},
		{"EC2NodeClass/system", []string{"spec", "metadataOptions"}, `{"httpEndpoint":"enabled","httpProtocolIPv6":"disabled","httpPutResponseHopLimit":1,"httpTokens":"required"}`},
		{"EC2NodeClass/system", []string{"spec", "tags"}, `{"project":"hybrid-llm"}`},
		{"NodePool/system", []string{"spec", "limits"}, `{"cpu":"32","memory":"128Gi"}`},
		{"NodePool/system", []string{"spec", "disruption"}, `{"budgets":[{"nodes":"10%"}],"consolidateAfter":"30s","consolidationPolicy":"WhenEmptyOrUnderutilized"}`},
		{"NodePool/system", []string{"spec", "template", "metadata"}, `{"labels":{"node.kubernetes.io/purpose":"system"}}`},
		{"NodePool/system", []string{"spec", "template", "spec", "requirements"}, `[{"key":"karpenter.sh/capacity-type","operator":"In","values":["on-demand"]},{"key":"kubernetes.io/arch","operator":"In","values":["amd64"]},{"key":"kubernetes.io/os","operator":"In","values":["linux"]},{"key":"karpenter.k8s.aws/instance-family","operator":"In","values":["m7i","m6i"]},{"key":"karpenter.k8s.aws/instance-size","operator":"In","values":["xlarge","2xlarge"]}]`},
		{"NodePool/gpu", []string{"spec", "limits"}, `{"nvidia.com/gpu":"8"}`},
		{"NodePool/gpu", []string{"spec", "disruption"}, `{"budgets":[{"nodes":"1"}],"consolidateAfter":"1m","consolidationPolicy":"WhenEmpty"}`},
		{"NodePool/gpu", []string{"spec", "template", "metadata"}, `{"labels":{"node.kubernetes.io/purpose":"gpu-inference","nvidia.com/gpu.present":"true"}}`},
		{"NodePool/gpu", []string{"spec", "template", "spec", "taints"}, `[{"effect":"NoSchedule","key":"nvidia.com/gpu","value":"present"}]`},
		{"NodePool/gpu", []string{"spec", "template", "spec", "nodeClassRef"}, `{"group":"karpenter.k8s.aws","kind":"EC2NodeClass","name":"gpu"}`},
		{"NodePool/gpu", []string{"spec", "template", "spec", "requirements"}, `[{"key":"karpenter.sh/capacity-type","operator":"In","values":["spot","on-demand"]},{"key":"kubernetes.io/arch","operator":"In","values":["amd64"]},{"key":"kubernetes.io/os","operator":"In","values":["linux"]},{"key":"karpenter.k8s.aws/instance-family","operator":"In","values":["g5","g6","g4dn"]}]`},
		{"NodePool/gpu", []string{"spec", "template", "spec", "terminationGracePeriod"}, `"10m"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.key, tt.path), func(t *testing.T) {
			b, _ := json.Marshal(field(tt.key, tt.path...))
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

// TestTokensFromOtherStacks renders the security group id and role name as
// CloudFormation references instead of literal strings (keys are rendered in
// sorted order: role before securityGroupSelectorTerms).
func TestTokensFromOtherStacks(t *testing.T) {
	f := newFixture(t)
	role := awsiam.NewRole(f.addonsStack, jsii.String("NodeRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
	})
	in := testInput
	in.ClusterSecurityGroupID = *f.cluster.ClusterSecurityGroupId()
	in.NodeRoleName = *role.RoleName()
	New(f.addonsStack, "KarpenterPools", f.props(in))
	tpl := assertions.Template_FromStack(f.addonsStack, nil)
	cdktest.Check(t, "EC2NodeClass manifest joins the imported security group id and the role reference", func() {
		tpl.HasResourceProperties(awseksv2.KubernetesManifest_RESOURCE_TYPE(), assertions.Match_ObjectLike(&map[string]any{
			"Manifest": map[string]any{"Fn::Join": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ArrayWith(&[]any{
					map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NodeRole"))},
					map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String("ClusterSecurityGroupId"))},
				}),
			})},
		}))
	})
}

func TestNewPanics(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *Props)
		want   string
	}{
		{"no props", nil, "karpenterpools: props are required"},
		{"no cluster", func(p *Props) { p.Cluster = nil }, "karpenterpools: Cluster is required"},
		{"no node classes", func(p *Props) { p.NodeClasses = nil }, "karpenterpools: at least one EC2NodeClass is required"},
		{"no node pools", func(p *Props) { p.NodePools = nil }, "karpenterpools: at least one NodePool is required"},
		{"no dependencies", func(p *Props) { p.DependsOn = nil }, "karpenterpools: DependsOn must name the constructs that install the Karpenter CRDs and controller"},
		{
			"invalid objects",
			func(p *Props) { p.NodeClasses[0].Spec.AMISelectorTerms = []AMISelectorTerm{{Alias: "al2@v20250101"}} },
			`karpenterpools: ec2NodeClasses[0] "system": spec.amiSelectorTerms[0].alias "al2@v20250101": no Amazon Linux 2 AMIs exist for Kubernetes 1.35 (last is 1.32); use al2023@<version>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var props *Props
			if tt.mutate != nil {
				props = f.props(testInput)
				tt.mutate(props)
			}
			defer func() {
				if r := recover(); r != tt.want {
					t.Errorf("panic = %v, want %q", r, tt.want)
				}
			}()
			New(f.addonsStack, "KarpenterPools", props)
		})
	}
}
