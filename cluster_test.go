package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/kubectllayer"
	"github.com/hybrid-llm/platform/internal/cdktest"
)

func toJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// clusterConfig returns the Config property of the EKS cluster resource.
func clusterConfig(t *testing.T, tpl assertions.Template) map[string]any {
	t.Helper()
	clusters := resources(tpl, "Custom::AWSCDK-EKS-Cluster")
	if len(clusters) != 1 {
		t.Fatalf("%d EKS clusters, want 1", len(clusters))
	}
	for _, c := range clusters {
		cfg, _ := props(c)["Config"].(map[string]any)
		return cfg
	}
	return nil
}

func TestClusterControlPlane(t *testing.T) {
	cfg := clusterConfig(t, defaults.templates[clusterStackID])
	vpcConfig, _ := cfg["resourcesVpcConfig"].(map[string]any)
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"name", cfg["name"], `"hybrid-llm"`},
		{"Kubernetes version", cfg["version"], `"1.35"`},
		{"API authentication mode (access entries, no aws-auth)", cfg["accessConfig"], `{"authenticationMode":"API"}`},
		{"all control-plane log types", cfg["logging"], `{"clusterLogging":[{"enabled":true,"types":["api","audit","authenticator","controllerManager","scheduler"]}]}`},
		{"private endpoint", vpcConfig["endpointPrivateAccess"], `true`},
		{"public endpoint", vpcConfig["endpointPublicAccess"], `true`},
		{"public endpoint CIDRs", vpcConfig["publicAccessCidrs"], `["0.0.0.0/0"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toJSON(t, tt.got); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("secrets envelope-encrypted with the stack's KMS key", func(t *testing.T) {
		enc := toJSON(t, cfg["encryptionConfig"])
		if !strings.Contains(enc, `"resources":["secrets"]`) || !strings.Contains(enc, `"keyArn":{"Fn::GetAtt":["SecretsKey`) {
			t.Errorf("encryptionConfig = %s", enc)
		}
		cdktest.Check(t, "key rotation", func() {
			defaults.templates[clusterStackID].HasResourceProperties(jsii.String("AWS::KMS::Key"), &map[string]any{"EnableKeyRotation": true})
		})
	})
	t.Run("nodes and endpoint in the private subnets only", func(t *testing.T) {
		subnets := toJSON(t, vpcConfig["subnetIds"])
		if strings.Contains(subnets, "PublicSubnet") || strings.Count(subnets, "PrivateSubnet") != 3 {
			t.Errorf("subnetIds = %s, want the 3 private subnets", subnets)
		}
	})
}

func TestClusterEndpointCidrsFromConfig(t *testing.T) {
	s := mustSynthesize(t, map[string]any{"hybridLlm.endpointPublicCidrs": "203.0.113.0/24,198.51.100.7/32"})
	vpcConfig, _ := clusterConfig(t, s.templates[clusterStackID])["resourcesVpcConfig"].(map[string]any)
	if got := toJSON(t, vpcConfig["publicAccessCidrs"]); got != `["203.0.113.0/24","198.51.100.7/32"]` {
		t.Errorf("publicAccessCidrs = %s", got)
	}
}

func TestClusterKubectlLayerIs136(t *testing.T) {
	layers := resources(defaults.templates[clusterStackID], "AWS::Lambda::LayerVersion")
	if len(layers) != 1 {
		t.Fatalf("%d layers, want the kubectl layer", len(layers))
	}
	want := "kubectl 1.36 and Helm from npm " + kubectllayer.Package + "@"
	for _, l := range layers {
		if d := toJSON(t, props(l)["Description"]); !strings.Contains(d, want) {
			t.Errorf("layer description %s does not contain %q", d, want)
		}
	}
}

func TestClusterOIDCProviderLivesInClusterStack(t *testing.T) {
	// One provider per issuer URL, created with the cluster (IAM rejects a
	// second one; the add-ons stack must reuse it).
	// The native resource (cdk.json: @aws-cdk/aws-eks:useNativeOidcProvider),
	// not the custom resource.
	cdktest.Check(t, "OIDC provider", func() {
		defaults.templates[clusterStackID].ResourceCountIs(jsii.String("AWS::IAM::OIDCProvider"), jsii.Number(1))
	})
	for _, id := range stackIDs {
		if n := len(resources(defaults.templates[id], "Custom::AWSCDKOpenIdConnectProvider")); n != 0 {
			t.Errorf("%s has %d custom-resource OIDC providers, want 0", id, n)
		}
		if id == clusterStackID {
			continue
		}
		if n := len(resources(defaults.templates[id], "AWS::IAM::OIDCProvider")); n != 0 {
			t.Errorf("%s has %d OIDC providers, want 0", id, n)
		}
	}
}

func TestClusterAdminAccessEntry(t *testing.T) {
	t.Run("none by default, with a warning", func(t *testing.T) {
		tpl := defaults.templates[clusterStackID]
		cdktest.Check(t, "no access entry", func() { tpl.ResourceCountIs(jsii.String("AWS::EKS::AccessEntry"), jsii.Number(0)) })
		warnings := assertions.Annotations_FromStack(defaults.platform.Cluster.Stack)
		cdktest.Check(t, "warning", func() {
			warnings.HasWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("adminPrincipalArn is empty")))
		})
	})
	t.Run("cluster-admin for the configured principal", func(t *testing.T) {
		arn := "arn:aws:iam::123456789012:role/PlatformAdmin"
		s := mustSynthesize(t, map[string]any{"hybridLlm.adminPrincipalArn": arn})
		entries := resources(s.templates[clusterStackID], "AWS::EKS::AccessEntry")
		if len(entries) != 1 {
			t.Fatalf("%d access entries, want 1", len(entries))
		}
		for _, e := range entries {
			p := props(e)
			if p["PrincipalArn"] != arn {
				t.Errorf("PrincipalArn = %v, want %s", p["PrincipalArn"], arn)
			}
			// The policy ARN is joined with the partition: compare its parts.
			policies := toJSON(t, p["AccessPolicies"])
			if !strings.Contains(policies, `"AccessScope":{"Type":"cluster"}`) || !strings.Contains(policies, `:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"`) {
				t.Errorf("AccessPolicies = %s, want AmazonEKSClusterAdminPolicy on the cluster scope", policies)
			}
		}
	})
}

func TestClusterManagedAddons(t *testing.T) {
	addonNames := func(id string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, a := range resources(defaults.templates[id], "AWS::EKS::Addon") {
			out[props(a)["AddonName"].(string)] = a
		}
		return out
	}
	cluster, nodeGroups := addonNames(clusterStackID), addonNames(nodeGroupsStackID)
	tests := []struct {
		addon string
		in    map[string]map[string]any
		stack string
	}{
		{"vpc-cni", cluster, clusterStackID},
		{"kube-proxy", cluster, clusterStackID},
		{"eks-pod-identity-agent", cluster, clusterStackID},
		// coredns stays DEGRADED without nodes: installed after the system group.
		{"coredns", nodeGroups, nodeGroupsStackID},
	}
	for _, tt := range tests {
		t.Run(tt.addon, func(t *testing.T) {
			a, ok := tt.in[tt.addon]
			if !ok {
				t.Fatalf("%s add-on not in %s", tt.addon, tt.stack)
			}
			if props(a)["ResolveConflicts"] != "OVERWRITE" {
				t.Errorf("ResolveConflicts = %v, want OVERWRITE (adopts the self-managed copy EKS installs)", props(a)["ResolveConflicts"])
			}
		})
	}
	if len(cluster)+len(nodeGroups) != len(tests) {
		t.Errorf("%d add-ons in cluster stack, %d in node group stack; want exactly %d", len(cluster), len(nodeGroups), len(tests))
	}
	if deps := toJSON(t, nodeGroups["coredns"]["DependsOn"]); !strings.Contains(deps, "System") {
		t.Errorf("coredns DependsOn = %s, want the system node group", deps)
	}
}

func TestClusterNodeRole(t *testing.T) {
	tpl := defaults.templates[clusterStackID]
	var nodeRole map[string]any
	for _, r := range resources(tpl, "AWS::IAM::Role") {
		if strings.Contains(toJSON(t, props(r)["AssumeRolePolicyDocument"]), "ec2.amazonaws.com") {
			if nodeRole != nil {
				t.Fatal("more than one role trusted by ec2.amazonaws.com")
			}
			nodeRole = r
		}
	}
	if nodeRole == nil {
		t.Fatal("no node role trusted by ec2.amazonaws.com")
	}
	policies := toJSON(t, props(nodeRole)["ManagedPolicyArns"])
	for _, p := range []string{"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"} {
		if !strings.Contains(policies, ":iam::aws:policy/"+p+`"`) {
			t.Errorf("node role lacks %s: %s", p, policies)
		}
	}
	if n := strings.Count(policies, ":iam::aws:policy/"); n != 4 {
		t.Errorf("node role has %d managed policies, want exactly 4: %s", n, policies)
	}
}

// TestClusterKubectlHandlerRunsInTheVpc: the Lambda that applies manifests
// and charts must reach the API through the private endpoint, or restricting
// endpointPublicCidrs to an office range would break every deploy of the
// add-ons stack. It lives in a nested stack, read from the cloud assembly.
func TestClusterKubectlHandlerRunsInTheVpc(t *testing.T) {
	dir := *defaults.app.Synth(nil).Directory()
	files, err := filepath.Glob(filepath.Join(dir, "*KubectlProvider*.nested.template.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("kubectl provider nested template: %v %v", files, err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]map[string]any
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	functions := 0
	for id, r := range tpl.Resources {
		if r["Type"] != "AWS::Lambda::Function" {
			continue
		}
		functions++
		vpc, ok := props(r)["VpcConfig"].(map[string]any)
		if !ok {
			t.Errorf("%s runs outside the VPC", id)
			continue
		}
		if subnets, _ := vpc["SubnetIds"].([]any); len(subnets) != len(defaults.cfg.Network.AvailabilityZones) {
			t.Errorf("%s is in %d subnets, want the %d private ones", id, len(subnets), len(defaults.cfg.Network.AvailabilityZones))
		}
	}
	if functions == 0 {
		t.Error("no function in the kubectl provider")
	}
}

// TestClusterLeavesNoLogsOrKeysBehind: EKS creates /aws/eks/<cluster>/cluster
// itself (never expiring, unknown to CloudFormation) unless it exists when the
// cluster is created; the secrets key is deleted (after KMS's waiting period)
// rather than retained.
func TestClusterLeavesNoLogsOrKeysBehind(t *testing.T) {
	tpl := defaults.templates[clusterStackID]
	var logGroupID string
	for id, lg := range resources(tpl, "AWS::Logs::LogGroup") {
		if props(lg)["LogGroupName"] == "/aws/eks/hybrid-llm/cluster" {
			logGroupID = id
			if lg["DeletionPolicy"] != "Delete" || props(lg)["RetentionInDays"] != float64(90) {
				t.Errorf("control-plane log group: DeletionPolicy %v, RetentionInDays %v; want Delete, 90", lg["DeletionPolicy"], props(lg)["RetentionInDays"])
			}
		}
	}
	if logGroupID == "" {
		t.Fatal("no /aws/eks/hybrid-llm/cluster log group")
	}
	for id, c := range resources(tpl, "Custom::AWSCDK-EKS-Cluster") {
		if !strings.Contains(toJSON(t, c["DependsOn"]), `"`+logGroupID+`"`) {
			t.Errorf("cluster %s does not depend on the log group: EKS would create it first", id)
		}
	}
	for id, k := range resources(tpl, "AWS::KMS::Key") {
		if k["DeletionPolicy"] != "Delete" || props(k)["PendingWindowInDays"] != float64(30) {
			t.Errorf("key %s: DeletionPolicy %v, PendingWindowInDays %v; want Delete, 30", id, k["DeletionPolicy"], props(k)["PendingWindowInDays"])
		}
	}
}
