package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/irsarole"
	"github.com/hybrid-llm/platform/constructs/karpenter"
	"github.com/hybrid-llm/platform/constructs/lbcontroller"
	"github.com/hybrid-llm/platform/internal/refpolicy"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
	"github.com/hybrid-llm/platform/internal/testing/chartkeys"
	"github.com/hybrid-llm/platform/platform"
)

// helmCharts returns the add-ons stack's Helm releases by release name.
func helmCharts(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range cdktest.Resources(t, defaults.templates[addonsStackID], "Custom::AWSCDK-EKS-HelmChart") {
		r["LogicalId"] = id
		out[cdktest.Props(r)["Release"].(string)] = r
	}
	return out
}

// helmValues returns a Helm release's Values as CloudFormation delivers them
// to the chart: decoded, with references rendered by defaults.resolver.
func helmValues(t *testing.T, chart map[string]any) map[string]any {
	t.Helper()
	var values map[string]any
	defaults.resolver(t).DecodeJSON(t, cdktest.Props(chart)["Values"], &values)
	return values
}

// manifest is one Kubernetes manifest resource with its objects decoded.
type manifest struct {
	Resource map[string]any
	Objects  []map[string]any
}

// kind returns the kind of the manifest's one object ("" if it holds
// several).
func (m manifest) kind() string {
	if len(m.Objects) != 1 {
		return ""
	}
	k, _ := m.Objects[0]["kind"].(string)
	return k
}

// manifests returns the add-ons stack's Kubernetes manifests by logical id.
func (s *synthesized) manifests(t *testing.T) map[string]manifest {
	t.Helper()
	r := s.resolver(t)
	out := map[string]manifest{}
	for id, m := range cdktest.Resources(t, s.templates[addonsStackID], *awseksv2.KubernetesManifest_RESOURCE_TYPE()) {
		var objs []map[string]any
		r.DecodeJSON(t, cdktest.Props(m)["Manifest"], &objs)
		out[id] = manifest{Resource: m, Objects: objs}
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
			p := cdktest.Props(c)
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
		if n := len(cdktest.Resources(t, defaults.templates[clusterStackID], typ)); n != 0 {
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
	manifests := defaults.manifests(t)
	kinds := map[string][]string{} // kind -> logical ids
	for lid, m := range manifests {
		if m.kind() == "" {
			t.Fatalf("manifest %s: %d objects, want 1", lid, len(m.Objects))
		}
		kinds[m.kind()] = append(kinds[m.kind()], lid)
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
			if !slices.Contains(dependsOn(manifests[lid].Resource), id("karpenter")) {
				t.Errorf("%s DependsOn = %v, want the karpenter release", lid, dependsOn(manifests[lid].Resource))
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
	if cdktest.Props(lbc)["Wait"] != true {
		t.Errorf("%s release Wait = %v: later releases would not wait for its webhook", lbcontroller.ChartName, cdktest.Props(lbc)["Wait"])
	}
	checked := map[string]bool{}
	for release, c := range charts {
		if release == lbcontroller.ChartName {
			continue
		}
		chart := cdktest.Props(c)["Chart"].(string) + " " + cdktest.Props(c)["Version"].(string)
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
	for id, m := range defaults.manifests(t) {
		if slices.ContainsFunc(m.Objects, func(o map[string]any) bool { return o["kind"] == "Service" }) && !dependsOnTransitively(all, id, lbcID) {
			t.Errorf("Service manifest %s does not depend on the %s release %s", id, lbcontroller.ChartName, lbcID)
		}
	}
}

// TestAddonsLoadBalancerControllerKeepsItsWebhookCertificate: upgrades reuse
// the webhook TLS secret instead of regenerating it.
func TestAddonsLoadBalancerControllerKeepsItsWebhookCertificate(t *testing.T) {
	values := helmValues(t, helmCharts(t)[lbcontroller.ChartName])
	if values["keepTLSSecret"] != true {
		t.Errorf("%s values keepTLSSecret = %v, want true", lbcontroller.ChartName, values["keepTLSSecret"])
	}
	if values["enableCertManager"] == true {
		t.Errorf("enableCertManager is set: keepTLSSecret only applies without cert-manager")
	}
}

// lbcAppVersion returns the Load Balancer Controller version of the
// configured chart.
func lbcAppVersion(t *testing.T) string {
	t.Helper()
	v, err := lbcontroller.AppVersion(platform.LoadBalancerController.Chart)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAddonsLoadBalancerControllerCRDs: the CRDs of the pinned controller
// version are applied, one manifest each, before the release (which skips
// its crds/), exactly as embedded, and retained on delete.
func TestAddonsLoadBalancerControllerCRDs(t *testing.T) {
	lbc := helmCharts(t)[lbcontroller.ChartName]
	if cdktest.Props(lbc)["SkipCrds"] != true {
		t.Errorf("%s SkipCrds = %v, want true (the manifests own the CRDs)", lbcontroller.ChartName, cdktest.Props(lbc)["SkipCrds"])
	}
	app := lbcAppVersion(t)
	embedded, err := lbcontroller.CRDs(app)
	if err != nil {
		t.Fatal(err)
	}
	lbcDeps, _ := lbc["DependsOn"].([]any)
	got := map[string]any{}
	for id, m := range defaults.manifests(t) {
		if m.kind() != "CustomResourceDefinition" {
			continue
		}
		crd, r := m.Objects[0], m.Resource
		raw, _ := cdktest.Props(r)["Manifest"].(string)
		name := lbcontroller.CRDName(crd)
		got[name] = crd
		if !slices.Contains(lbcDeps, any(id)) {
			t.Errorf("CRD %s (%s) is not applied before the %s release: DependsOn %v", name, id, lbcontroller.ChartName, lbcDeps)
		}
		if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("CRD %s: DeletionPolicy %v, UpdateReplacePolicy %v, want Retain", name, r["DeletionPolicy"], r["UpdateReplacePolicy"])
		}
		if cdktest.Props(r)["Overwrite"] != true {
			t.Errorf("CRD %s: Overwrite = %v, want true (kubectl apply, which also upgrades)", name, cdktest.Props(r)["Overwrite"])
		}
		if len(raw) >= lbcontroller.MaxCRDManifestBytes {
			t.Errorf("CRD %s manifest is %d bytes, over %d", name, len(raw), lbcontroller.MaxCRDManifestBytes)
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
	for id, conditions := range irsaConditions(t, defaults) {
		for k, v := range conditions {
			if strings.HasSuffix(k, ":sub") {
				subs = append(subs, fmt.Sprint(v))
			}
		}
		if len(conditions) != 2 || !slices.ContainsFunc(slices.Collect(maps.Keys(conditions)), func(k string) bool {
			return strings.HasSuffix(k, ":aud") && conditions[k] == "sts.amazonaws.com"
		}) {
			t.Errorf("IRSA conditions %s = %v, want :sub and :aud = sts.amazonaws.com", id, conditions)
		}
	}
	sort.Strings(subs)
	return subs
}

// irsaConditions returns the IRSA trust conditions (Custom::AWSCDKCfnJson
// values: "<issuer>:aud" and "<issuer>:sub" keys) of s's add-ons stack, by
// logical id.
func irsaConditions(t *testing.T, s *synthesized) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range cdktest.Resources(t, s.templates[addonsStackID], "Custom::AWSCDKCfnJson") {
		var v map[string]any
		s.resolver(t).DecodeJSON(t, cdktest.Props(r)["Value"], &v)
		out[id] = v
	}
	return out
}

func TestAddonsIRSARolesTrustExactlyOneServiceAccount(t *testing.T) {
	want := []string{"system:serviceaccount:karpenter:karpenter", "system:serviceaccount:kube-system:aws-load-balancer-controller"}
	if got := irsaSubjects(t); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("IRSA subjects = %v, want %v", got, want)
	}
	// Each IRSA role's trust uses StringEquals on the CfnJson value (the
	// issuer is a token: the condition keys are built by CloudFormation).
	n := 0
	conditions := irsaConditions(t, defaults)
	for id, r := range cdktest.Resources(t, defaults.templates[addonsStackID], "AWS::IAM::Role") {
		for _, st := range trustStatements(r) {
			if !slices.Contains(refpolicy.StringList(st["Action"]), "sts:AssumeRoleWithWebIdentity") {
				continue
			}
			n++
			eq, _ := cdktest.Resolve(st["Condition"]).(map[string]any)["StringEquals"].(string)
			if _, ok := conditions[strings.TrimSuffix(strings.TrimPrefix(eq, "${"), ".Value}")]; !ok || !strings.HasSuffix(eq, ".Value}") {
				t.Errorf("IRSA role %s: trust StringEquals = %v, want the Value of a CfnJson condition", id, st["Condition"])
			}
		}
	}
	if n != 2 {
		t.Errorf("%d IRSA roles, want 2", n)
	}
}

// trustStatements returns the statements of a role's trust policy.
func trustStatements(role map[string]any) []map[string]any {
	doc, _ := cdktest.Props(role)["AssumeRolePolicyDocument"].(map[string]any)
	list, _ := doc["Statement"].([]any)
	var out []map[string]any
	for _, st := range list {
		if m, ok := st.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// trustsServiceAccount reports whether a role's trust policy names the
// service account namespace/name: through the IRSA CfnJson conditions
// (conditionsIDs: the CfnJson resources naming its OIDC subject) or through
// the Pod Identity session-tag conditions.
func trustsServiceAccount(t *testing.T, role map[string]any, conditionsIDs []string, namespace, name string) bool {
	t.Helper()
	for _, st := range trustStatements(role) {
		cond, _ := cdktest.Resolve(st["Condition"]).(map[string]any)
		switch eq := cond["StringEquals"].(type) {
		case string: // IRSA: the Value of a CfnJson condition
			for _, id := range conditionsIDs {
				if eq == ref(id, "Value") {
					return true
				}
			}
		case map[string]any: // Pod Identity: session tags
			if eq["aws:RequestTag/"+irsarole.TagNamespace] == namespace && eq["aws:RequestTag/"+irsarole.TagServiceAccount] == name {
				return true
			}
		}
	}
	return false
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
	roles := cdktest.Resources(t, tpl, "AWS::IAM::Role")
	associations := cdktest.Resources(t, tpl, "AWS::EKS::PodIdentityAssociation")
	manifests := s.manifests(t)
	clusterID := ""
	for id := range cdktest.Resources(t, s.templates[clusterStackID], "AWS::EKS::Cluster") {
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
				p := cdktest.Props(a)
				if p["Namespace"] == c.namespace && p["ServiceAccount"] == c.serviceAccount {
					if assocID != "" {
						t.Fatalf("two associations for %s/%s", c.namespace, c.serviceAccount)
					}
					assocID = id
					for id := range roles {
						if cdktest.Resolve(p["RoleArn"]) == ref(id, "Arn") {
							roleID = id
						}
					}
					if cn := s.resolver(t).Resolve(p["ClusterName"]); cn != ref(clusterID, "") {
						t.Errorf("association ClusterName = %v, want the cluster %s", cn, clusterID)
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
			doc, _ := cdktest.Props(role)["AssumeRolePolicyDocument"].(map[string]any)
			statements, _ := doc["Statement"].([]any)
			if len(statements) != 1 {
				t.Fatalf("trust has %d statements, want 1: %v", len(statements), doc)
			}
			st := statements[0].(map[string]any)
			checks := []struct {
				what      string
				got, want any
			}{
				{"principal", st["Principal"], map[string]any{"Service": irsarole.PodIdentityPrincipal}},
				{"actions", refpolicy.StringList(st["Action"]), []string{"sts:AssumeRole", "sts:TagSession"}},
				{"effect", st["Effect"], "Allow"},
			}
			for _, ck := range checks {
				if !reflect.DeepEqual(ck.got, ck.want) {
					t.Errorf("trust %s = %v, want %v", ck.what, ck.got, ck.want)
				}
			}
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			if len(cond) != 1 || len(eq) != 3 {
				t.Errorf("trust conditions = %v, want exactly StringEquals on the three session tags", cond)
			}
			if got := eq["aws:RequestTag/"+irsarole.TagNamespace]; got != c.namespace {
				t.Errorf("namespace tag condition = %v, want %s", got, c.namespace)
			}
			if got := eq["aws:RequestTag/"+irsarole.TagServiceAccount]; got != c.serviceAccount {
				t.Errorf("service account tag condition = %v, want %s", got, c.serviceAccount)
			}
			// The cluster ARN comes from the cluster stack: an output of the
			// cluster resource's Arn.
			if arn := s.resolver(t).Resolve(eq["aws:RequestTag/"+irsarole.TagClusterArn]); arn != ref(clusterID, "Arn") {
				t.Errorf("cluster ARN tag condition = %v, want the Arn of %s", arn, clusterID)
			}
			found := false
			for id, m := range manifests {
				if m.kind() != "ServiceAccount" {
					continue
				}
				meta, _ := m.Objects[0]["metadata"].(map[string]any)
				if meta["name"] != c.serviceAccount || meta["namespace"] != c.namespace {
					continue
				}
				found = true
				if annotations, _ := meta["annotations"].(map[string]any); annotations[irsarole.RoleArnAnnotation] != nil {
					t.Errorf("ServiceAccount %s carries the IRSA annotation", id)
				}
				if deps := dependsOnOf(m.Resource); !slices.Contains(deps, assocID) {
					t.Errorf("ServiceAccount %s DependsOn = %v, want the association %s", id, deps, assocID)
				}
			}
			if !found {
				t.Errorf("no ServiceAccount manifest %s", c.serviceAccount)
			}
		})
	}
	for id, r := range roles {
		for _, st := range trustStatements(r) {
			if slices.Contains(refpolicy.StringList(st["Action"]), "sts:AssumeRoleWithWebIdentity") {
				t.Errorf("role %s still trusts the OIDC provider: %v", id, st)
			}
		}
	}
	// The agent that serves the associations is a cluster add-on in both modes.
	agent := false
	for _, a := range cdktest.Resources(t, s.templates[clusterStackID], "AWS::EKS::Addon") {
		agent = agent || cdktest.Props(a)["AddonName"] == "eks-pod-identity-agent"
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
	for id, conditions := range irsaConditions(t, s) {
		if slices.Contains(slices.Collect(maps.Values(conditions)), any(irsarole.Subject(namespace, name))) {
			conditionsIDs = append(conditionsIDs, id)
		}
	}
	actions := map[string]bool{}
	roles := 0
	for _, r := range cdktest.Resources(t, tpl, "AWS::IAM::Role") {
		if !trustsServiceAccount(t, r, conditionsIDs, namespace, name) {
			continue
		}
		roles++
		policies, _ := cdktest.Props(r)["Policies"].([]any)
		for _, p := range policies {
			doc := p.(map[string]any)["PolicyDocument"].(map[string]any)
			allow := slices.DeleteFunc(slices.Clone(doc["Statement"].([]any)), func(st any) bool { return st.(map[string]any)["Effect"] != "Allow" })
			for _, a := range refpolicy.Actions(allow) {
				actions[a] = true
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
	lbcVersion := lbcAppVersion(t)
	lbcRef, err := lbcontroller.ReferenceActions(lbcVersion)
	if err != nil {
		t.Fatal(err)
	}
	karpRef, err := karpenter.ReferenceActions(platform.Karpenter.App)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, namespace, serviceAccount string
		reference                       []string
		wantCount                       int
	}{
		{"load balancer controller " + lbcVersion, lbcontroller.Namespace, lbcontroller.ServiceAccountName, lbcRef, 80},
		{"karpenter " + platform.Karpenter.App, karpenter.Namespace, karpenter.ServiceAccountName, karpRef, 32},
	}
	for _, mode := range identityModes {
		for _, tt := range tests {
			t.Run(mode.identity+"/"+tt.name, func(t *testing.T) {
				if len(tt.reference) != tt.wantCount {
					t.Errorf("reference policy has %d actions, want %d (the count of the embedded upstream policy file)", len(tt.reference), tt.wantCount)
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
	for _, r := range cdktest.Resources(t, defaults.templates[addonsStackID], "AWS::IAM::Role") {
		arns, _ := cdktest.Resolve(cdktest.Props(r)["ManagedPolicyArns"]).([]any)
		for _, arn := range arns {
			if strings.HasSuffix(fmt.Sprint(arn), "FullAccess") {
				t.Errorf("a role has a FullAccess managed policy: %v", arn)
			}
		}
	}
}

func TestAddonsKarpenterSettings(t *testing.T) {
	values := helmValues(t, helmCharts(t)["karpenter"])
	queueID, _ := only(t, defaults.templates[addonsStackID], "AWS::SQS::Queue")
	clusterID, _ := only(t, defaults.templates[clusterStackID], "AWS::EKS::Cluster")
	at := func(path ...string) any {
		var v any = values
		for _, k := range path {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		return v
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"cluster name", at("settings", "clusterName"), defaults.cfg.ClusterName},
		{"interruption queue", at("settings", "interruptionQueue"), ref(queueID, "QueueName")},
		// A weak cross-stack reference (cdk.json:
		// @aws-cdk/core:defaultCrossStackReferences), resolved to the
		// cluster stack's output.
		{"cluster endpoint", at("settings", "clusterEndpoint"), ref(clusterID, "Endpoint")},
		// Never on a node Karpenter launched; on the system node group.
		{"not on Karpenter nodes", at("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"),
			[]any{map[string]any{"matchExpressions": []any{map[string]any{"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}}}}},
		{"on the system node group", at("nodeSelector", "node.kubernetes.io/purpose"), "system"},
		{"two replicas", at("replicas"), 2.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("karpenter values: got %v, want %v", tt.got, tt.want)
			}
		})
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
	queueID, _ := only(t, tpl, "AWS::SQS::Queue")
	_, queuePolicy := only(t, tpl, "AWS::SQS::QueuePolicy")
	statements, _ := cdktest.Resolve(cdktest.Props(queuePolicy)["PolicyDocument"]).(map[string]any)["Statement"].([]any)
	wantStatements := []any{
		map[string]any{"Action": "sqs:*", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			"Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Resource": ref(queueID, "Arn")},
		map[string]any{"Action": "sqs:SendMessage", "Effect": "Allow",
			"Principal": map[string]any{"Service": []any{"events.amazonaws.com", "sqs.amazonaws.com"}}, "Resource": ref(queueID, "Arn")},
	}
	if !reflect.DeepEqual(statements, wantStatements) {
		t.Errorf("queue policy statements\n got %v\nwant %v", statements, wantStatements)
	}
	want := map[string]string{
		"AWS Health Event":                                       "aws.health",
		"EC2 Spot Instance Interruption Warning":                 "aws.ec2",
		"EC2 Instance Rebalance Recommendation":                  "aws.ec2",
		"EC2 Instance State-change Notification":                 "aws.ec2",
		"EC2 Capacity Reservation Instance Interruption Warning": "aws.ec2",
	}
	rules := cdktest.Resources(t, tpl, "AWS::Events::Rule")
	if len(rules) != len(want) {
		t.Errorf("%d rules, want %d", len(rules), len(want))
	}
	for _, r := range rules {
		p := cdktest.Props(r)
		pattern := p["EventPattern"].(map[string]any)
		detail := pattern["detail-type"].([]any)[0].(string)
		if src := pattern["source"].([]any)[0]; want[detail] != src {
			t.Errorf("rule %q has source %v, want %q", detail, src, want[detail])
		}
		delete(want, detail)
		targets, _ := cdktest.Resolve(p["Targets"]).([]any)
		if len(targets) != 1 || targets[0].(map[string]any)["Arn"] != ref(queueID, "Arn") {
			t.Errorf("rule %q does not target only the queue %s: %v", detail, queueID, targets)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing rules: %v", want)
	}
}

func TestAddonsSweeper(t *testing.T) {
	tpl := defaults.templates[addonsStackID]
	sweepers := cdktest.Resources(t, tpl, "Custom::ClusterSweeper")
	if len(sweepers) != 1 {
		t.Fatalf("%d sweepers, want 1", len(sweepers))
	}
	var sweeperID string
	var sweeperRes map[string]any
	for id, r := range sweepers {
		sweeperID, sweeperRes = id, r
	}
	if got := cdktest.Props(sweeperRes)["ClusterName"]; got != defaults.cfg.ClusterName {
		t.Errorf("sweeper ClusterName = %v, want %q", got, defaults.cfg.ClusterName)
	}
	t.Run("every release is deleted before the sweep runs", func(t *testing.T) {
		for release, c := range helmCharts(t) {
			if !slices.Contains(dependsOnOf(c), sweeperID) {
				t.Errorf("release %s does not depend on the sweeper: %v", release, c["DependsOn"])
			}
		}
	})
	t.Run("the Karpenter node role outlives the sweep", func(t *testing.T) {
		nodeRole := defaults.platform.Addons.Karpenter.NodeIAMRole()
		nodeRoleID := logicalIDs(nodeRole, "AWS::IAM::Role")[0]
		if !slices.Contains(dependsOnOf(sweeperRes), nodeRoleID) {
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
		if n := len(cdktest.Resources(t, s.templates[addonsStackID], "Custom::ClusterSweeper")); n != 0 {
			t.Errorf("%d sweepers with sweeper.enabled=false", n)
		}
		for _, f := range cdktest.Resources(t, s.templates[addonsStackID], "AWS::Lambda::Function") {
			// The Spot service-linked role's handler stays (TestSpotServiceLinkedRole).
			if description, _ := cdktest.Props(f)["Description"].(string); cdktest.Props(f)["Runtime"] == "provided.al2023" && !strings.Contains(description, "Spot service-linked role") {
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
// pseudo parameters at their longest, every other reference (a Ref to a
// resource, Fn::GetAtt, Fn::ImportValue) as 128 characters, longer than any
// ARN or name this app references.
func deployedLength(v any) int {
	const tokenLength = 128
	longest := cdktest.Resolver{Value: func(placeholder string) string {
		if n, pseudo := pseudoParameterLength[strings.TrimSuffix(strings.TrimPrefix(placeholder, "${"), "}")]; pseudo {
			return strings.Repeat("x", n)
		}
		return strings.Repeat("x", tokenLength)
	}}
	raw, _ := json.Marshal(longest.Resolve(v))
	return len(raw)
}

// TestAddonsInlinePoliciesFitIAMLimits: IAM rejects a role whose inline
// policies exceed 10,240 characters in total (whitespace excluded), at
// deploy time only. The controller policies are inline because the
// Karpenter one is too large for a managed policy (6,144).
func TestAddonsInlinePoliciesFitIAMLimits(t *testing.T) {
	const roleInlineLimit = 10240
	checked := 0
	for id, r := range cdktest.Resources(t, defaults.templates[addonsStackID], "AWS::IAM::Role") {
		policies, _ := cdktest.Props(r)["Policies"].([]any)
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
	tolerations, _ := helmValues(t, helmCharts(t)["nvidia-device-plugin"])["tolerations"].([]any)
	want := map[string]any{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}
	if !slices.ContainsFunc(tolerations, func(v any) bool { return reflect.DeepEqual(v, want) }) {
		t.Errorf("nvidia-device-plugin tolerations %v lack the GPU toleration %v", tolerations, want)
	}
}
