package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/irsarole"
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
		// The controller's CRDs are manifests applied before it (--skip-crds).
		{"aws-load-balancer-controller", "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.5.0", "kube-system", true},
		// The CDK 2.276 handler pulls "<Repository>" for OCI charts: the chart
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
	for kind, want := range map[string]int{"NodePool": 2, "EC2NodeClass": 2, "ServiceAccount": 2, "Namespace": 1, "CustomResourceDefinition": 7} {
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

// dependsOnTransitively reports whether resource from waits for resource to
// in the template's DependsOn graph (which CloudFormation orders by).
func dependsOnTransitively(all map[string]map[string]any, from, to string) bool {
	seen := map[string]bool{}
	queue := []string{from}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		deps, _ := all[id]["DependsOn"].([]any)
		for _, d := range deps {
			ds, _ := d.(string)
			if ds == to {
				return true
			}
			if !seen[ds] {
				seen[ds] = true
				queue = append(queue, ds)
			}
		}
	}
	return false
}

// templateResources returns every resource of the template by logical id.
func templateResources(t *testing.T, tpl assertions.Template) map[string]map[string]any {
	t.Helper()
	doc, _ := cdktest.Plain(t, tpl.ToJSON()).(map[string]any)
	out := map[string]map[string]any{}
	for id, r := range doc["Resources"].(map[string]any) {
		out[id] = r.(map[string]any)
	}
	return out
}

// chartsWithoutService are the pinned charts ("<chart> <version>") whose
// templates create no Service, as read at their tags. Every other release
// must wait for the Load Balancer Controller's: a chart bump or a new add-on
// is ordered after it unless someone has checked its templates and listed it.
var chartsWithoutService = map[string]string{
	"karpenter-crd 1.14.1":        "aws/karpenter-provider-aws v1.14.1 charts/karpenter-crd/templates: five CustomResourceDefinitions",
	"nvidia-device-plugin 0.20.0": "NVIDIA/k8s-device-plugin v0.20.0 deployments/helm/nvidia-device-plugin/templates: ConfigMap, DaemonSets, Role, RoleBinding, ServiceAccount; its node-feature-discovery subchart is off (condition nfd.enabled unset, gfd.enabled false)",
}

// TestAddonsServicesWaitForTheLoadBalancerControllerWebhook: the controller's
// Service mutating webhook fails closed, so every release that may create a
// Service, and every Service manifest, is created after the controller's
// release, which waits until its pods (the webhook's endpoints) are ready.
func TestAddonsServicesWaitForTheLoadBalancerControllerWebhook(t *testing.T) {
	tpl := defaults.templates[addonsStackID]
	all := templateResources(t, tpl)
	charts := helmCharts(t)
	lbc, ok := charts[lbcontroller.ChartName]
	if !ok {
		t.Fatalf("no %s release", lbcontroller.ChartName)
	}
	lbcID := lbc["LogicalId"].(string)
	if props(lbc)["Wait"] != true {
		t.Errorf("%s release Wait = %v: later releases would not wait for its webhook", lbcontroller.ChartName, props(lbc)["Wait"])
	}
	checked := map[string]bool{}
	for release, c := range charts {
		if release == lbcontroller.ChartName {
			continue
		}
		chart := props(c)["Chart"].(string) + " " + props(c)["Version"].(string)
		if _, ok := chartsWithoutService[chart]; ok {
			checked[chart] = true
			continue
		}
		if !dependsOnTransitively(all, c["LogicalId"].(string), lbcID) {
			t.Errorf("release %s (chart %s) is not listed in chartsWithoutService, so it may create a Service, but it does not depend on the %s release %s: its Service would race the webhook (DependsOn %v)",
				release, chart, lbcontroller.ChartName, lbcID, c["DependsOn"])
		}
	}
	for chart := range chartsWithoutService {
		if !checked[chart] {
			t.Errorf("chartsWithoutService lists %q, which no release installs: remove it", chart)
		}
	}
	for id, m := range resources(tpl, "Custom::AWSCDK-EKS-KubernetesResource") {
		if strings.Contains(toJSON(t, props(m)["Manifest"]), `\"kind\":\"Service\"`) && !dependsOnTransitively(all, id, lbcID) {
			t.Errorf("Service manifest %s does not depend on the %s release %s", id, lbcontroller.ChartName, lbcID)
		}
	}
}

// TestAddonsLoadBalancerControllerKeepsItsWebhookCertificate: upgrades reuse
// the webhook TLS secret instead of regenerating it.
func TestAddonsLoadBalancerControllerKeepsItsWebhookCertificate(t *testing.T) {
	values := toJSON(t, props(helmCharts(t)[lbcontroller.ChartName])["Values"])
	for _, want := range []string{`\"keepTLSSecret\":true`} {
		if !strings.Contains(values, want) {
			t.Errorf("%s values lack %s:\n%s", lbcontroller.ChartName, want, values)
		}
	}
	if strings.Contains(values, `\"enableCertManager\":true`) {
		t.Errorf("enableCertManager is set: keepTLSSecret only applies without cert-manager")
	}
}

// TestAddonsLoadBalancerControllerCRDs: the CRDs of the pinned controller
// version are applied, one manifest each, before the release (which skips
// its crds/), exactly as embedded, and retained on delete.
func TestAddonsLoadBalancerControllerCRDs(t *testing.T) {
	app, err := lbcontroller.AppVersion(defaults.cfg.LoadBalancerController.ChartVersion)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := lbcontroller.CRDs(app)
	if err != nil {
		t.Fatal(err)
	}
	tpl := defaults.templates[addonsStackID]
	lbc := helmCharts(t)[lbcontroller.ChartName]
	if props(lbc)["SkipCrds"] != true {
		t.Errorf("%s SkipCrds = %v, want true (the manifests own the CRDs)", lbcontroller.ChartName, props(lbc)["SkipCrds"])
	}
	lbcDeps, _ := lbc["DependsOn"].([]any)
	got := map[string]any{}
	for id, m := range resources(tpl, "Custom::AWSCDK-EKS-KubernetesResource") {
		s, ok := props(m)["Manifest"].(string)
		if !ok {
			continue
		}
		var objs []map[string]any
		if err := json.Unmarshal([]byte(s), &objs); err != nil {
			t.Fatalf("manifest %s: %v", id, err)
		}
		if len(objs) != 1 || objs[0]["kind"] != "CustomResourceDefinition" {
			continue
		}
		name := lbcontroller.CRDName(objs[0])
		got[name] = objs[0]
		if !slices.Contains(lbcDeps, any(id)) {
			t.Errorf("CRD %s (%s) is not applied before the %s release: DependsOn %v", name, id, lbcontroller.ChartName, lbcDeps)
		}
		if m["DeletionPolicy"] != "Retain" || m["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("CRD %s: DeletionPolicy %v, UpdateReplacePolicy %v, want Retain", name, m["DeletionPolicy"], m["UpdateReplacePolicy"])
		}
		if props(m)["Overwrite"] != true {
			t.Errorf("CRD %s: Overwrite = %v, want true (kubectl apply, which also upgrades)", name, props(m)["Overwrite"])
		}
		if len(s) >= lbcontroller.MaxCRDManifestBytes {
			t.Errorf("CRD %s manifest is %d bytes, over %d", name, len(s), lbcontroller.MaxCRDManifestBytes)
		}
	}
	want := map[string]any{}
	for _, crd := range embedded {
		// Through JSON, as the template carries it.
		var v any
		raw, _ := json.Marshal(crd)
		_ = json.Unmarshal(raw, &v)
		want[lbcontroller.CRDName(crd)] = v
	}
	if len(want) != 7 {
		t.Errorf("%d CRDs embedded for %s, want 7", len(want), app)
	}
	if len(got) != len(want) {
		t.Errorf("%d CRD manifests, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("no manifest for CRD %s", name)
			continue
		}
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.MarshalIndent(g, "", " ")
			wj, _ := json.MarshalIndent(w, "", " ")
			t.Errorf("CRD %s in the template differs from the embedded %s CRD:\n%s", name, app, lineDiff(string(wj), string(gj)))
		}
	}
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

// trustsServiceAccount reports whether a role's trust policy names the
// service account namespace/name: through the IRSA CfnJson conditions
// (conditionsIDs: the CfnJson resources naming its OIDC subject) or through
// the Pod Identity session-tag conditions.
func trustsServiceAccount(t *testing.T, role map[string]any, conditionsIDs []string, namespace, name string) bool {
	t.Helper()
	trust := toJSON(t, props(role)["AssumeRolePolicyDocument"])
	for _, id := range conditionsIDs {
		if strings.Contains(trust, `"`+id+`"`) {
			return true
		}
	}
	return strings.Contains(trust, `"aws:RequestTag/`+irsarole.TagNamespace+`":"`+namespace+`"`) &&
		strings.Contains(trust, `"aws:RequestTag/`+irsarole.TagServiceAccount+`":"`+name+`"`)
}

// TestAddonsPodIdentity: with identity=podIdentity each controller has one
// AWS::EKS::PodIdentityAssociation of its service account with its role; the
// role is assumable only by pods.eks.amazonaws.com (sts:AssumeRole and
// sts:TagSession) with the session tags of this cluster, the controller's
// namespace and its service account; the ServiceAccount carries no IRSA
// annotation and waits for the association; no role trusts the OIDC provider.
func TestAddonsPodIdentity(t *testing.T) {
	s := podIdentity(t)
	tpl := s.templates[addonsStackID]
	roles := resources(tpl, "AWS::IAM::Role")
	associations := resources(tpl, "AWS::EKS::PodIdentityAssociation")
	manifests := resources(tpl, "Custom::AWSCDK-EKS-KubernetesResource")
	clusterID := ""
	for id := range resources(s.templates[clusterStackID], "AWS::EKS::Cluster") {
		clusterID = id
	}
	controllers := []struct{ name, namespace, serviceAccount string }{
		{"load balancer controller", lbcontroller.Namespace, lbcontroller.ServiceAccountName},
		{"karpenter", karpenter.Namespace, karpenter.ServiceAccountName},
	}
	if len(associations) != len(controllers) {
		t.Errorf("%d pod identity associations, want %d", len(associations), len(controllers))
	}
	for _, c := range controllers {
		t.Run(c.name, func(t *testing.T) {
			var assocID, roleID string
			for id, a := range associations {
				p := props(a)
				if p["Namespace"] == c.namespace && p["ServiceAccount"] == c.serviceAccount {
					if assocID != "" {
						t.Fatalf("two associations for %s/%s", c.namespace, c.serviceAccount)
					}
					assocID = id
					ref, _ := p["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)
					if len(ref) != 2 || ref[1] != "Arn" {
						t.Fatalf("association RoleArn = %s, want a role of this stack", toJSON(t, p["RoleArn"]))
					}
					roleID, _ = ref[0].(string)
					if cn := toJSON(t, p["ClusterName"]); !strings.Contains(cn, clusterID) {
						t.Errorf("association ClusterName = %s, want the cluster %s", cn, clusterID)
					}
				}
			}
			if assocID == "" {
				t.Fatalf("no association for %s/%s", c.namespace, c.serviceAccount)
			}
			role, ok := roles[roleID]
			if !ok {
				t.Fatalf("association role %s not in the stack", roleID)
			}
			doc, _ := props(role)["AssumeRolePolicyDocument"].(map[string]any)
			statements, _ := doc["Statement"].([]any)
			if len(statements) != 1 {
				t.Fatalf("trust has %d statements, want 1: %s", len(statements), toJSON(t, doc))
			}
			st := statements[0].(map[string]any)
			checks := []struct{ what, got, want string }{
				{"principal", toJSON(t, st["Principal"]), `{"Service":"` + irsarole.PodIdentityPrincipal + `"}`},
				{"actions", toJSON(t, st["Action"]), `["sts:AssumeRole","sts:TagSession"]`},
				{"effect", toJSON(t, st["Effect"]), `"Allow"`},
			}
			for _, ck := range checks {
				if ck.got != ck.want {
					t.Errorf("trust %s = %s, want %s", ck.what, ck.got, ck.want)
				}
			}
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			if len(cond) != 1 || len(eq) != 3 {
				t.Errorf("trust conditions = %s, want exactly StringEquals on the three session tags", toJSON(t, cond))
			}
			if got := eq["aws:RequestTag/"+irsarole.TagNamespace]; got != c.namespace {
				t.Errorf("namespace tag condition = %v, want %s", got, c.namespace)
			}
			if got := eq["aws:RequestTag/"+irsarole.TagServiceAccount]; got != c.serviceAccount {
				t.Errorf("service account tag condition = %v, want %s", got, c.serviceAccount)
			}
			// The cluster ARN comes from the cluster stack: an output of the
			// cluster resource's Arn.
			if arn := toJSON(t, eq["aws:RequestTag/"+irsarole.TagClusterArn]); !strings.Contains(arn, "Fn::GetStackOutput") || !strings.Contains(arn, "FnGetAtt"+clusterID+"Arn") {
				t.Errorf("cluster ARN tag condition = %s, want the Arn of %s", arn, clusterID)
			}
			found := false
			for id, m := range manifests {
				body := toJSON(t, props(m)["Manifest"])
				if !strings.Contains(body, `\"kind\":\"ServiceAccount\"`) || !strings.Contains(body, `\"name\":\"`+c.serviceAccount+`\"`) {
					continue
				}
				found = true
				if strings.Contains(body, irsarole.RoleArnAnnotation) {
					t.Errorf("ServiceAccount %s carries the IRSA annotation", id)
				}
				if deps := toJSON(t, m["DependsOn"]); !strings.Contains(deps, `"`+assocID+`"`) {
					t.Errorf("ServiceAccount %s DependsOn = %s, want the association %s", id, deps, assocID)
				}
			}
			if !found {
				t.Errorf("no ServiceAccount manifest %s", c.serviceAccount)
			}
		})
	}
	for id, r := range roles {
		if trust := toJSON(t, props(r)["AssumeRolePolicyDocument"]); strings.Contains(trust, "sts:AssumeRoleWithWebIdentity") {
			t.Errorf("role %s still trusts the OIDC provider: %s", id, trust)
		}
	}
	// The agent that serves the associations is a cluster add-on in both modes.
	agent := false
	for _, a := range resources(s.templates[clusterStackID], "AWS::EKS::Addon") {
		agent = agent || props(a)["AddonName"] == "eks-pod-identity-agent"
	}
	if !agent {
		t.Error("no eks-pod-identity-agent add-on in the cluster stack")
	}
}

// grantedActions returns the actions of every inline policy of the role
// of s's add-ons stack that trusts the service account namespace/name.
func grantedActions(t *testing.T, s *synthesized, namespace, name string) map[string]bool {
	t.Helper()
	tpl := s.templates[addonsStackID]
	var conditionsIDs []string
	for id, r := range resources(tpl, "Custom::AWSCDKCfnJson") {
		if strings.Contains(toJSON(t, props(r)["Value"]), irsarole.Subject(namespace, name)+`\"`) {
			conditionsIDs = append(conditionsIDs, id)
		}
	}
	actions := map[string]bool{}
	roles := 0
	for _, r := range resources(tpl, "AWS::IAM::Role") {
		if !trustsServiceAccount(t, r, conditionsIDs, namespace, name) {
			continue
		}
		roles++
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
	if len(actions) == 0 || roles != 1 {
		t.Fatalf("%d roles trust %s/%s, with %d actions; want one role with inline policies", roles, namespace, name, len(actions))
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
		name, namespace, serviceAccount string
		reference                       []string
		wantCount                       int
	}{
		{"load balancer controller " + lbcVersion, lbcontroller.Namespace, lbcontroller.ServiceAccountName, lbcRef, 80},
		{"karpenter " + defaults.cfg.Karpenter.Version, karpenter.Namespace, karpenter.ServiceAccountName, karpRef, 32},
	}
	for _, mode := range identityModes {
		for _, tt := range tests {
			t.Run(mode.identity+"/"+tt.name, func(t *testing.T) {
				if len(tt.reference) != tt.wantCount {
					t.Errorf("reference policy has %d actions, DESIGN.md records %d", len(tt.reference), tt.wantCount)
				}
				granted := grantedActions(t, mode.app(t), tt.namespace, tt.serviceAccount)
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
		// A weak cross-stack reference (cdk.json: @aws-cdk/core:defaultCrossStackReferences).
		`\"clusterEndpoint\":\"",{"Fn::GetStackOutput":{"OutputName":"PublishOutputFnGetAttCluster`,
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
