package main

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/karpenter"
	"github.com/hybrid-llm/platform/constructs/lbcontroller"
	"github.com/hybrid-llm/platform/internal/cdktest"
	"github.com/hybrid-llm/platform/internal/chartkeys"
	"github.com/hybrid-llm/platform/stacks"
)

// helmCharts returns the add-ons stack's Helm releases by release name.
func helmCharts(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range resources(defaults.templates[addonsStackID], "Custom::AWSCDK-EKS-HelmChart") {
		r["LogicalId"] = id
		out[props(r)["Release"].(string)] = r
	}
	return out
}

func TestAddonsHelmReleases(t *testing.T) {
	charts := helmCharts(t)
	tests := []struct {
		release, chart, repository, version, namespace string
		skipCrds                                       bool
	}{
		{"aws-load-balancer-controller", "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.5.0", "kube-system", false},
		// The CDK 2.223 handler pulls "<Repository>" for OCI charts: the chart
		// name must be part of it.
		{"karpenter-crd", "karpenter-crd", "oci://public.ecr.aws/karpenter/karpenter-crd", "1.14.1", "karpenter", false},
		{"karpenter", "karpenter", "oci://public.ecr.aws/karpenter/karpenter", "1.14.1", "karpenter", true},
		{"nvidia-device-plugin", "nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.20.0", "kube-system", false},
	}
	if len(charts) != len(tests) {
		t.Errorf("%d Helm releases, want %d", len(charts), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			c, ok := charts[tt.release]
			if !ok {
				t.Fatalf("no release %q", tt.release)
			}
			p := props(c)
			for k, want := range map[string]any{"Chart": tt.chart, "Repository": tt.repository, "Version": tt.version, "Namespace": tt.namespace} {
				if p[k] != want {
					t.Errorf("%s = %v, want %v", k, p[k], want)
				}
			}
			if got := p["SkipCrds"] == true; got != tt.skipCrds {
				t.Errorf("SkipCrds = %v, want %v", p["SkipCrds"], tt.skipCrds)
			}
		})
	}
	// None of it may land in the cluster stack (cross-stack cycle, and the
	// cluster stack's resources must not change because of the add-ons).
	for _, typ := range []string{"Custom::AWSCDK-EKS-HelmChart", "Custom::AWSCDK-EKS-KubernetesResource"} {
		if n := len(resources(defaults.templates[clusterStackID], typ)); n != 0 {
			t.Errorf("cluster stack has %d %s resources, want 0", n, typ)
		}
	}
}

func TestAddonsReleaseOrder(t *testing.T) {
	charts := helmCharts(t)
	id := func(release string) string { return charts[release]["LogicalId"].(string) }
	dependsOn := func(r map[string]any) []string {
		var out []string
		for _, d := range r["DependsOn"].([]any) {
			out = append(out, d.(string))
		}
		return out
	}
	manifests := resources(defaults.templates[addonsStackID], "Custom::AWSCDK-EKS-KubernetesResource")
	kinds := map[string][]string{} // kind -> logical ids
	for lid, m := range manifests {
		var obj []map[string]any
		if s, ok := props(m)["Manifest"].(string); ok {
			if err := json.Unmarshal([]byte(s), &obj); err != nil {
				t.Fatalf("manifest %s: %v", lid, err)
			}
		} else {
			// Manifests holding tokens are an Fn::Join; the kind is in its text.
			raw := toJSON(t, props(m)["Manifest"])
			for _, k := range []string{"NodePool", "EC2NodeClass", "ServiceAccount", "Namespace"} {
				if strings.Contains(raw, `\"kind\":\"`+k+`\"`) {
					obj = []map[string]any{{"kind": k}}
				}
			}
		}
		if len(obj) != 1 {
			t.Fatalf("manifest %s: cannot tell its kind", lid)
		}
		kinds[obj[0]["kind"].(string)] = append(kinds[obj[0]["kind"].(string)], lid)
	}
	for kind, want := range map[string]int{"NodePool": 2, "EC2NodeClass": 2, "ServiceAccount": 2, "Namespace": 1} {
		if len(kinds[kind]) != want {
			t.Errorf("%d %s manifests, want %d", len(kinds[kind]), kind, want)
		}
	}

	t.Run("karpenter chart after its CRD chart", func(t *testing.T) {
		if !slices.Contains(dependsOn(charts["karpenter"]), id("karpenter-crd")) {
			t.Errorf("karpenter DependsOn = %v", dependsOn(charts["karpenter"]))
		}
	})
	t.Run("every release that uses IRSA after its service account", func(t *testing.T) {
		for _, release := range []string{"aws-load-balancer-controller", "karpenter"} {
			found := false
			for _, d := range dependsOn(charts[release]) {
				found = found || slices.Contains(kinds["ServiceAccount"], d)
			}
			if !found {
				t.Errorf("%s does not depend on a ServiceAccount manifest: %v", release, dependsOn(charts[release]))
			}
		}
	})
	t.Run("node pools and classes after the controller (deleted before it)", func(t *testing.T) {
		for _, lid := range append(append([]string{}, kinds["NodePool"]...), kinds["EC2NodeClass"]...) {
			if !slices.Contains(dependsOn(manifests[lid]), id("karpenter")) {
				t.Errorf("%s DependsOn = %v, want the karpenter release", lid, dependsOn(manifests[lid]))
			}
		}
	})
}

// TestAddonsValuesExistInCharts checks every key of the values actually sent
// to each release against the keys of the real, pinned chart.
func TestAddonsValuesExistInCharts(t *testing.T) {
	a := defaults.platform.Addons
	tests := []struct {
		chart, version string
		values         map[string]any
	}{
		{lbcontroller.ChartName, *a.LoadBalancerController.Addon.Chart.Version(), a.LoadBalancerController.Addon.Values},
		{karpenter.ChartName, *a.Karpenter.Chart.Chart.Version(), a.Karpenter.Chart.Values},
		{karpenter.CRDChartName, *a.Karpenter.CRDs.Chart.Version(), a.Karpenter.CRDs.Values},
		{"nvidia-device-plugin", *a.NvidiaDevicePlugin.Chart.Version(), a.NvidiaDevicePlugin.Values},
	}
	for _, tt := range tests {
		t.Run(tt.chart, func(t *testing.T) {
			if err := chartkeys.Check(tt.chart, tt.version, tt.values); err != nil {
				t.Error(err)
			}
		})
	}
}

// irsaSubjects returns the service accounts the IRSA conditions name, checking
// that each also pins the audience to STS.
func irsaSubjects(t *testing.T) []string {
	t.Helper()
	var subs []string
	for _, r := range resources(defaults.templates[addonsStackID], "Custom::AWSCDKCfnJson") {
		v := toJSON(t, props(r)["Value"])
		if i := strings.Index(v, "system:serviceaccount:"); i >= 0 {
			rest := v[i:]
			subs = append(subs, rest[:strings.Index(rest, `\"`)])
			if !strings.Contains(v, `:aud\":\"sts.amazonaws.com\"`) {
				t.Errorf("IRSA conditions %s lack :aud = sts.amazonaws.com", v)
			}
		}
	}
	sort.Strings(subs)
	return subs
}

func TestAddonsIRSARolesTrustExactlyOneServiceAccount(t *testing.T) {
	want := []string{"system:serviceaccount:karpenter:karpenter", "system:serviceaccount:kube-system:aws-load-balancer-controller"}
	if got := irsaSubjects(t); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("IRSA subjects = %v, want %v", got, want)
	}
	// Each IRSA role's trust uses StringEquals on the CfnJson value (the
	// issuer is a token: the condition keys are built by CloudFormation).
	n := 0
	for _, r := range resources(defaults.templates[addonsStackID], "AWS::IAM::Role") {
		trust := toJSON(t, props(r)["AssumeRolePolicyDocument"])
		if strings.Contains(trust, "sts:AssumeRoleWithWebIdentity") {
			n++
			if !strings.Contains(trust, `"Condition":{"StringEquals":{"Fn::GetAtt":[`) {
				t.Errorf("IRSA trust without CfnJson StringEquals: %s", trust)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d IRSA roles, want 2", n)
	}
}

// grantedActions returns the actions of every inline policy of the role
// whose trust names the given service account.
func grantedActions(t *testing.T, serviceAccount string) map[string]bool {
	t.Helper()
	tpl := defaults.templates[addonsStackID]
	var conditionsID string
	for id, r := range resources(tpl, "Custom::AWSCDKCfnJson") {
		if strings.Contains(toJSON(t, props(r)["Value"]), serviceAccount+`\"`) {
			conditionsID = id
		}
	}
	actions := map[string]bool{}
	for _, r := range resources(tpl, "AWS::IAM::Role") {
		if !strings.Contains(toJSON(t, props(r)["AssumeRolePolicyDocument"]), `"`+conditionsID+`"`) {
			continue
		}
		policies, _ := props(r)["Policies"].([]any)
		for _, p := range policies {
			doc := p.(map[string]any)["PolicyDocument"].(map[string]any)
			for _, st := range doc["Statement"].([]any) {
				stmt := st.(map[string]any)
				if stmt["Effect"] != "Allow" {
					continue
				}
				switch a := stmt["Action"].(type) {
				case string:
					actions[a] = true
				case []any:
					for _, x := range a {
						actions[x.(string)] = true
					}
				}
			}
		}
	}
	if len(actions) == 0 {
		t.Fatalf("no role with inline policies trusts %s", serviceAccount)
	}
	return actions
}

// TestAddonsControllerIAMCoversOfficialPolicies: each controller role grants
// exactly the actions of the official policy of the pinned version (no
// broader managed policy such as ElasticLoadBalancingFullAccess).
func TestAddonsControllerIAMCoversOfficialPolicies(t *testing.T) {
	lbcVersion, err := lbcontroller.AppVersion(defaults.cfg.LoadBalancerController.ChartVersion)
	if err != nil {
		t.Fatal(err)
	}
	lbcRef, err := lbcontroller.ReferenceActions(lbcVersion)
	if err != nil {
		t.Fatal(err)
	}
	karpRef, err := karpenter.ReferenceActions(defaults.cfg.Karpenter.Version)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, serviceAccount string
		reference            []string
		wantCount            int
	}{
		{"load balancer controller " + lbcVersion, "system:serviceaccount:kube-system:aws-load-balancer-controller", lbcRef, 80},
		{"karpenter " + defaults.cfg.Karpenter.Version, "system:serviceaccount:karpenter:karpenter", karpRef, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.reference) != tt.wantCount {
				t.Errorf("reference policy has %d actions, DESIGN.md records %d", len(tt.reference), tt.wantCount)
			}
			granted := grantedActions(t, tt.serviceAccount)
			for _, a := range tt.reference {
				if !granted[a] {
					t.Errorf("role lacks %s", a)
				}
			}
			for a := range granted {
				if !slices.Contains(tt.reference, a) {
					t.Errorf("role grants %s, which the official policy does not", a)
				}
			}
		})
	}
	for _, r := range resources(defaults.templates[addonsStackID], "AWS::IAM::Role") {
		if m := toJSON(t, props(r)["ManagedPolicyArns"]); strings.Contains(m, "FullAccess") {
			t.Errorf("a role has a FullAccess managed policy: %s", m)
		}
	}
}

func TestAddonsKarpenterSettings(t *testing.T) {
	values := toJSON(t, props(helmCharts(t)["karpenter"])["Values"])
	queues := resources(defaults.templates[addonsStackID], "AWS::SQS::Queue")
	if len(queues) != 1 {
		t.Fatalf("%d queues, want 1", len(queues))
	}
	var queueID string
	for id := range queues {
		queueID = id
	}
	for _, want := range []string{
		`\"clusterName\":\"hybrid-llm\"`,
		`\"interruptionQueue\":\"",{"Fn::GetAtt":["` + queueID + `","QueueName"]}`,
		`\"clusterEndpoint\":\"",{"Fn::ImportValue":"HybridLlmCluster:`,
		// Never on a node Karpenter launched; on the system node group.
		`{\"key\":\"karpenter.sh/nodepool\",\"operator\":\"DoesNotExist\"}`,
		`\"node.kubernetes.io/purpose\":\"system\"`,
		`\"replicas\":2`,
	} {
		if !strings.Contains(values, want) {
			t.Errorf("karpenter values lack %s:\n%s", want, values)
		}
	}
}

func TestAddonsInterruptionQueueAndRules(t *testing.T) {
	tpl := defaults.templates[addonsStackID]
	cdktest.Check(t, "queue", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), &map[string]any{
			"MessageRetentionPeriod": 300,
			"SqsManagedSseEnabled":   true,
		})
	})
	policy := ""
	for _, p := range resources(tpl, "AWS::SQS::QueuePolicy") {
		policy = toJSON(t, props(p)["PolicyDocument"])
	}
	for _, want := range []string{`"aws:SecureTransport":"false"`, `"Effect":"Deny"`, `"events.amazonaws.com"`, `"sqs.amazonaws.com"`, `"sqs:SendMessage"`} {
		if !strings.Contains(policy, want) {
			t.Errorf("queue policy lacks %s: %s", want, policy)
		}
	}
	want := map[string]string{
		"AWS Health Event":                                       "aws.health",
		"EC2 Spot Instance Interruption Warning":                 "aws.ec2",
		"EC2 Instance Rebalance Recommendation":                  "aws.ec2",
		"EC2 Instance State-change Notification":                 "aws.ec2",
		"EC2 Capacity Reservation Instance Interruption Warning": "aws.ec2",
	}
	rules := resources(tpl, "AWS::Events::Rule")
	if len(rules) != len(want) {
		t.Errorf("%d rules, want %d", len(rules), len(want))
	}
	for _, r := range rules {
		p := props(r)
		pattern := p["EventPattern"].(map[string]any)
		detail := pattern["detail-type"].([]any)[0].(string)
		if src := pattern["source"].([]any)[0]; want[detail] != src {
			t.Errorf("rule %q has source %v, want %q", detail, src, want[detail])
		}
		delete(want, detail)
		if targets := toJSON(t, p["Targets"]); !strings.Contains(targets, "Fn::GetAtt") || !strings.Contains(targets, `"Arn"]`) {
			t.Errorf("rule %q does not target the queue: %s", detail, targets)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing rules: %v", want)
	}
}

// TestAddonsDoNotChangeClusterResources builds the network and cluster stacks
// alone and compares the cluster stack's resources with the full app's: the
// add-ons may add exports (Outputs) to it, never resources.
func TestAddonsDoNotChangeClusterResources(t *testing.T) {
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	app := cdktest.NewApp(t, &awscdk.AppProps{Context: &ctx})
	cfg := defaults.cfg
	network := stacks.NewNetworkStack(app, networkStackID, &stacks.NetworkStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String(cfg.Region)}}, ClusterName: cfg.ClusterName, Network: cfg.Network,
	})
	cluster := stacks.NewClusterStack(app, clusterStackID, &stacks.ClusterStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String(cfg.Region)}}, Vpc: network.Vpc, ClusterName: cfg.ClusterName,
		KubernetesVersion: cfg.KubernetesVersion, EndpointPublicCidrs: cfg.EndpointPublicCidrs, AdminPrincipalArn: cfg.AdminPrincipalArn,
		ControlPlaneLogRetentionDays: cfg.ControlPlaneLogRetentionDays,
	})
	alone := assertions.Template_FromStack(cluster.Stack, nil)
	resourcesJSON := func(tpl assertions.Template) string {
		m := *tpl.ToJSON()
		raw, err := normalize(map[string]any{"Resources": m["Resources"]})
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	if got, want := resourcesJSON(defaults.templates[clusterStackID]), resourcesJSON(alone); got != want {
		t.Errorf("the add-ons change the cluster stack's resources:\n%s", lineDiff(want, got))
	}
}

func TestAddonsSweeper(t *testing.T) {
	tpl := defaults.templates[addonsStackID]
	sweepers := resources(tpl, "Custom::ClusterSweeper")
	if len(sweepers) != 1 {
		t.Fatalf("%d sweepers, want 1", len(sweepers))
	}
	var sweeperID string
	var sweeperRes map[string]any
	for id, r := range sweepers {
		sweeperID, sweeperRes = id, r
	}
	if got := props(sweeperRes)["ClusterName"]; got != defaults.cfg.ClusterName {
		t.Errorf("sweeper ClusterName = %v, want %q", got, defaults.cfg.ClusterName)
	}
	t.Run("every release is deleted before the sweep runs", func(t *testing.T) {
		for release, c := range helmCharts(t) {
			if !strings.Contains(toJSON(t, c["DependsOn"]), `"`+sweeperID+`"`) {
				t.Errorf("release %s does not depend on the sweeper: %v", release, c["DependsOn"])
			}
		}
	})
	t.Run("the Karpenter node role outlives the sweep", func(t *testing.T) {
		nodeRole := defaults.platform.Addons.Karpenter.NodeRole.Role
		nodeRoleID := *defaults.platform.Addons.Stack.GetLogicalId(nodeRole.Node().DefaultChild().(awscdk.CfnElement))
		if !strings.Contains(toJSON(t, sweeperRes["DependsOn"]), `"`+nodeRoleID+`"`) {
			t.Errorf("sweeper DependsOn = %v, want the node role %s", sweeperRes["DependsOn"], nodeRoleID)
		}
	})
	t.Run("a Go function on provided.al2023 arm64", func(t *testing.T) {
		cdktest.Check(t, "function", func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
				"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "Handler": "bootstrap",
			})
		})
	})
	t.Run("off when sweeper.enabled=false", func(t *testing.T) {
		s := mustSynthesize(t, map[string]any{"hybridLlm.sweeper.enabled": "false"})
		if n := len(resources(s.templates[addonsStackID], "Custom::ClusterSweeper")); n != 0 {
			t.Errorf("%d sweepers with sweeper.enabled=false", n)
		}
		for _, f := range resources(s.templates[addonsStackID], "AWS::Lambda::Function") {
			// The Spot service-linked role's handler stays (TestSpotServiceLinkedRole).
			if props(f)["Runtime"] == "provided.al2023" && !strings.Contains(toJSON(t, props(f)["Description"]), "Spot service-linked role") {
				t.Error("the sweeper function is still there")
			}
		}
	})
}

// pseudoParameterLength is the longest value of each pseudo parameter:
// "aws-us-gov", a 14-character region such as "ap-southeast-5", 12 digits,
// "amazonaws.com.cn".
var pseudoParameterLength = map[string]int{"AWS::Partition": 10, "AWS::Region": 14, "AWS::AccountId": 12, "AWS::URLSuffix": 16}

// deployedLength estimates the length of v once CloudFormation resolves it:
// pseudo parameters at their longest, every other token (a Ref to a
// resource, Fn::GetAtt, Fn::ImportValue) as 128 characters, longer than any
// ARN or name this app references.
func deployedLength(v any) int {
	const tokenLength = 128
	switch v := v.(type) {
	case map[string]any:
		if join, ok := v["Fn::Join"].([]any); ok && len(v) == 1 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			n := len(sep) * max(len(parts)-1, 0)
			for _, p := range parts {
				n += deployedLength(p)
			}
			return n
		}
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			if n, pseudo := pseudoParameterLength[ref]; pseudo {
				return n
			}
		}
		for k := range v {
			if k == "Ref" || strings.HasPrefix(k, "Fn::") {
				return tokenLength
			}
		}
		n := 2
		for k, x := range v {
			n += len(k) + 4 + deployedLength(x)
		}
		return n
	case []any:
		n := 2
		for _, x := range v {
			n += deployedLength(x) + 1
		}
		return n
	case string:
		raw, _ := json.Marshal(v)
		return len(raw)
	default:
		raw, _ := json.Marshal(v)
		return len(raw)
	}
}

// TestAddonsInlinePoliciesFitIAMLimits: IAM rejects a role whose inline
// policies exceed 10,240 characters in total (whitespace excluded), at
// deploy time only. The controller policies are inline because the
// Karpenter one is too large for a managed policy (6,144).
func TestAddonsInlinePoliciesFitIAMLimits(t *testing.T) {
	const roleInlineLimit = 10240
	checked := 0
	for id, r := range resources(defaults.templates[addonsStackID], "AWS::IAM::Role") {
		policies, _ := props(r)["Policies"].([]any)
		total := 0
		for _, p := range policies {
			total += deployedLength(p.(map[string]any)["PolicyDocument"])
		}
		if total > roleInlineLimit {
			t.Errorf("role %s: inline policies ~%d characters, over IAM's %d", id, total, roleInlineLimit)
		}
		if total > 0 {
			checked++
			t.Logf("role %s: inline policies ~%d of %d characters", id, total, roleInlineLimit)
		}
	}
	if checked < 2 {
		t.Errorf("checked %d roles with inline policies, want at least the two controller roles", checked)
	}
}

func TestAddonsNvidiaDevicePluginToleratesTheGPUTaint(t *testing.T) {
	values := toJSON(t, props(helmCharts(t)["nvidia-device-plugin"])["Values"])
	if want := `{\"effect\":\"NoSchedule\",\"key\":\"nvidia.com/gpu\",\"operator\":\"Exists\"}`; !strings.Contains(values, want) {
		t.Errorf("nvidia-device-plugin values lack the GPU toleration %s: %s", want, values)
	}
}
