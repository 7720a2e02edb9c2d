package irsarole_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/irsarole"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

func TestNewRejectsMisuse(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name  string
		props func(c awseksv2.ICluster) *irsarole.Props
		want  string
	}{
		{"nil props", func(awseksv2.ICluster) *irsarole.Props { return nil }, "irsarole: props are required"},
		{"no cluster", func(awseksv2.ICluster) *irsarole.Props { return &irsarole.Props{Name: "sa"} }, "irsarole: cluster is required"},
		{"empty name", func(c awseksv2.ICluster) *irsarole.Props { return &irsarole.Props{Cluster: c} },
			"irsarole: service account name is required"},
		{"uppercase name", func(c awseksv2.ICluster) *irsarole.Props { return &irsarole.Props{Cluster: c, Name: "Karpenter"} },
			`irsarole: service account name "Karpenter" is not a valid RFC 1123 subdomain (lowercase alphanumerics, '-' or '.', at most 253 characters, alphanumeric at both ends)`},
		{"underscore name", func(c awseksv2.ICluster) *irsarole.Props { return &irsarole.Props{Cluster: c, Name: "my_sa"} },
			`irsarole: service account name "my_sa" is not a valid RFC 1123 subdomain (lowercase alphanumerics, '-' or '.', at most 253 characters, alphanumeric at both ends)`},
		{"leading dash name", func(c awseksv2.ICluster) *irsarole.Props { return &irsarole.Props{Cluster: c, Name: "-sa"} },
			`irsarole: service account name "-sa" is not a valid RFC 1123 subdomain (lowercase alphanumerics, '-' or '.', at most 253 characters, alphanumeric at both ends)`},
		{"trailing dot name", func(c awseksv2.ICluster) *irsarole.Props { return &irsarole.Props{Cluster: c, Name: "sa."} },
			`irsarole: service account name "sa." is not a valid RFC 1123 subdomain (lowercase alphanumerics, '-' or '.', at most 253 characters, alphanumeric at both ends)`},
		{"name too long", func(c awseksv2.ICluster) *irsarole.Props {
			return &irsarole.Props{Cluster: c, Name: strings.Repeat("a", 254)}
		}, fmt.Sprintf(`irsarole: service account name %q is not a valid RFC 1123 subdomain (lowercase alphanumerics, '-' or '.', at most 253 characters, alphanumeric at both ends)`, strings.Repeat("a", 254))},
		{"uppercase namespace", func(c awseksv2.ICluster) *irsarole.Props {
			return &irsarole.Props{Cluster: c, Name: "sa", Namespace: "Karpenter"}
		}, `irsarole: namespace "Karpenter" is not a valid RFC 1123 label (lowercase alphanumerics or '-', at most 63 characters, alphanumeric at both ends)`},
		{"dotted namespace", func(c awseksv2.ICluster) *irsarole.Props {
			return &irsarole.Props{Cluster: c, Name: "sa", Namespace: "a.b"}
		}, `irsarole: namespace "a.b" is not a valid RFC 1123 label (lowercase alphanumerics or '-', at most 63 characters, alphanumeric at both ends)`},
		{"leading dash namespace", func(c awseksv2.ICluster) *irsarole.Props {
			return &irsarole.Props{Cluster: c, Name: "sa", Namespace: "-ns"}
		}, `irsarole: namespace "-ns" is not a valid RFC 1123 label (lowercase alphanumerics or '-', at most 63 characters, alphanumeric at both ends)`},
		{"namespace too long", func(c awseksv2.ICluster) *irsarole.Props {
			return &irsarole.Props{Cluster: c, Name: "sa", Namespace: long}
		}, fmt.Sprintf(`irsarole: namespace %q is not a valid RFC 1123 label (lowercase alphanumerics or '-', at most 63 characters, alphanumeric at both ends)`, long)},
		{"create kube-system", func(c awseksv2.ICluster) *irsarole.Props {
			return &irsarole.Props{Cluster: c, Name: "sa", Namespace: "kube-system", CreateNamespace: true}
		}, `irsarole: namespace "kube-system" always exists; CreateNamespace must be false`},
	}
	ta := cdktest.NewIRSAClusterApp(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cdktest.PanicText(func() { irsarole.New(ta.Stack, fmt.Sprintf("Irsa%d", i), tt.props(ta.Cluster)) })
			if got != tt.want {
				t.Errorf("panic = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNameRules(t *testing.T) {
	valid := []string{"a", "karpenter", "aws-load-balancer-controller", "a.b-c.d", strings.Repeat("a", 63) + "." + strings.Repeat("b", 63)}
	for _, n := range valid {
		if err := irsarole.ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}
	validNs := []string{"a", "kube-system", strings.Repeat("a", 63)}
	for _, n := range validNs {
		if err := irsarole.ValidateNamespace(n); err != nil {
			t.Errorf("ValidateNamespace(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range []string{"", "a..b", "a.-b", "ns ", "ü"} {
		if irsarole.ValidateName(n) == nil {
			t.Errorf("ValidateName(%q) = nil, want an error", n)
		}
	}
}

// issuer resolves template values with cdktest.Resolver, the OIDC issuer
// (Fn::Select 1 of Fn::Split ":oidc-provider/" of the imported provider ARN)
// as ISSUER.
var issuer = cdktest.Resolver{Value: func(placeholder string) string {
	if strings.HasPrefix(placeholder, "${Fn::Select[1]:${Fn::Split[:oidc-provider/]:${import:") {
		return "ISSUER"
	}
	return placeholder
}}

func TestTrustPolicy(t *testing.T) {
	ta := cdktest.NewIRSAClusterApp(t)
	irsarole.New(ta.Stack, "Karpenter", &irsarole.Props{Cluster: ta.Cluster, Name: "karpenter", Namespace: "karpenter"})
	tpl := assertions.Template_FromStack(ta.Stack, nil)

	cfnJSON := cdktest.Resources(t, tpl, "Custom::AWSCDKCfnJson")
	if len(cfnJSON) != 1 {
		t.Fatalf("Custom::AWSCDKCfnJson resources = %d, want 1", len(cfnJSON))
	}
	var cfnJSONID string
	var value any
	for id, r := range cfnJSON {
		cfnJSONID, value = id, r["Properties"].(map[string]any)["Value"]
	}

	t.Run("conditions are built in CloudFormation with the exact sub and aud", func(t *testing.T) {
		var got map[string]string
		issuer.DecodeJSON(t, value, &got)
		want := map[string]string{
			"ISSUER:sub": "system:serviceaccount:karpenter:karpenter",
			"ISSUER:aud": "sts.amazonaws.com",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("conditions = %v, want %v", got, want)
		}
	})

	t.Run("role trusts only the cluster provider under those conditions", func(t *testing.T) {
		cdktest.Check(t, "role", func() {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), &map[string]any{
				"AssumeRolePolicyDocument": map[string]any{
					"Statement": []any{map[string]any{
						"Action":    "sts:AssumeRoleWithWebIdentity",
						"Effect":    "Allow",
						"Principal": map[string]any{"Federated": map[string]any{"Fn::ImportValue": assertions.Match_AnyValue()}},
						"Condition": map[string]any{
							"StringEquals": map[string]any{"Fn::GetAtt": []any{cfnJSONID, "Value"}},
						},
					}},
				},
			})
		})
	})

	t.Run("service account is annotated with the role ARN", func(t *testing.T) {
		roles := cdktest.Resources(t, tpl, "AWS::IAM::Role")
		var roleID string
		for id, r := range roles {
			if strings.Contains(fmt.Sprint(r["Properties"]), "AssumeRoleWithWebIdentity") {
				roleID = id
			}
		}
		if roleID == "" {
			t.Fatal("no IRSA role found")
		}
		want := map[string]any{
			"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": map[string]any{
				"name": "karpenter", "namespace": "karpenter",
				"labels": map[string]any{
					"app.kubernetes.io/name":       "karpenter",
					"app.kubernetes.io/managed-by": "aws-cdk",
				},
				"annotations": map[string]any{"eks.amazonaws.com/role-arn": "${" + roleID + ".Arn}"},
			},
		}
		ms := manifests(t, tpl)
		if len(ms) != 1 {
			t.Fatalf("manifests = %d, want 1", len(ms))
		}
		if !reflect.DeepEqual(ms[0].obj, want) {
			t.Errorf("manifest = %v\nwant       %v", ms[0].obj, want)
		}
		if ms[0].props["Overwrite"] != true {
			t.Errorf("Overwrite = %v, want true", ms[0].props["Overwrite"])
		}
	})

	t.Run("no namespace is created by default", func(t *testing.T) {
		if ns := findKind(manifests(t, tpl), "Namespace"); ns != nil {
			t.Errorf("unexpected Namespace manifest: %v", ns.obj)
		}
		if got := len(cdktest.Resources(t, tpl, *awseksv2.KubernetesManifest_RESOURCE_TYPE())); got != 1 {
			t.Errorf("manifests = %d, want 1", got)
		}
	})
}

type manifest struct {
	id        string
	obj       map[string]any // the single object, prune labels removed
	props     map[string]any
	dependsOn []any
}

// manifests decodes every KubernetesManifest of tpl, references rendered by
// cdktest.Resolve ("${id.attr}"). The prune labels the cluster adds are
// dropped.
func manifests(t *testing.T, tpl assertions.Template) []manifest {
	t.Helper()
	var out []manifest
	for id, r := range cdktest.Resources(t, tpl, *awseksv2.KubernetesManifest_RESOURCE_TYPE()) {
		props := r["Properties"].(map[string]any)
		var objs []map[string]any
		cdktest.DecodeJSON(t, props["Manifest"], &objs)
		if len(objs) != 1 {
			t.Fatalf("manifest %s: %d objects, want 1", id, len(objs))
		}
		if labels, ok := objs[0]["metadata"].(map[string]any)["labels"].(map[string]any); ok {
			for k := range labels {
				if strings.HasPrefix(k, "aws.cdk.eks/prune-") {
					delete(labels, k)
				}
			}
		}
		deps, _ := r["DependsOn"].([]any)
		out = append(out, manifest{id: id, obj: objs[0], props: props, dependsOn: deps})
	}
	return out
}

func findKind(ms []manifest, kind string) *manifest {
	for i := range ms {
		if ms[i].obj["kind"] == kind {
			return &ms[i]
		}
	}
	return nil
}

func TestCreateNamespace(t *testing.T) {
	ta := cdktest.NewIRSAClusterApp(t)
	r := irsarole.New(ta.Stack, "Lbc", &irsarole.Props{
		Cluster: ta.Cluster, Name: "controller", Namespace: "lbc", CreateNamespace: true,
	})
	if r.Namespace == nil {
		t.Fatal("Namespace is nil with CreateNamespace")
	}
	tpl := assertions.Template_FromStack(ta.Stack, nil)
	ms := manifests(t, tpl)
	ns, sa := findKind(ms, "Namespace"), findKind(ms, "ServiceAccount")
	if ns == nil || sa == nil {
		t.Fatalf("want a Namespace and a ServiceAccount manifest, got %v", ms)
	}
	t.Run("namespace manifest", func(t *testing.T) {
		want := map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": "lbc", "labels": map[string]any{
				"app.kubernetes.io/name": "lbc", "app.kubernetes.io/managed-by": "aws-cdk",
			}},
		}
		if !reflect.DeepEqual(ns.obj, want) {
			t.Errorf("namespace = %v\nwant        %v", ns.obj, want)
		}
	})
	t.Run("service account depends on the namespace", func(t *testing.T) {
		if !containsString(sa.dependsOn, ns.id) {
			t.Errorf("ServiceAccount DependsOn = %v, want it to contain %s", sa.dependsOn, ns.id)
		}
	})
	t.Run("service account carries its labels", func(t *testing.T) {
		labels := sa.obj["metadata"].(map[string]any)["labels"].(map[string]any)
		if labels["app.kubernetes.io/managed-by"] != "aws-cdk" || labels["app.kubernetes.io/name"] != "controller" {
			t.Errorf("labels = %v", labels)
		}
	})
}

func containsString(xs []any, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestInlinePolicies(t *testing.T) {
	ta := cdktest.NewIRSAClusterApp(t)
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("sqs:ReceiveMessage"), Resources: jsii.Strings("*"),
		}),
	}})
	irsarole.New(ta.Stack, "Irsa", &irsarole.Props{
		Cluster: ta.Cluster, Name: "sa",
		PolicyDocuments: map[string]awsiam.PolicyDocument{"Controller": doc},
	})
	tpl := assertions.Template_FromStack(ta.Stack, nil)
	cdktest.Check(t, "role with its inline policy, generated name, no managed policy", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), &map[string]any{
			"RoleName": assertions.Match_Absent(),
			"Policies": []any{map[string]any{
				"PolicyName": "Controller",
				"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
					"Action": "sqs:ReceiveMessage", "Effect": "Allow", "Resource": "*",
				}}},
			}},
			"ManagedPolicyArns": assertions.Match_Absent(),
		})
	})
	t.Run("namespace defaults to default", func(t *testing.T) {
		sa := findKind(manifests(t, tpl), "ServiceAccount")
		if got := sa.obj["metadata"].(map[string]any)["namespace"]; got != "default" {
			t.Errorf("namespace = %v, want default", got)
		}
	})
}

// TestAddsNothingToClusterStack proves the construct reuses the cluster's OIDC
// provider and kubectl provider and creates everything in its own stack.
func TestAddsNothingToClusterStack(t *testing.T) {
	resources := func(with bool) map[string]any {
		ta := cdktest.NewIRSAClusterApp(t)
		if with {
			irsarole.New(ta.Stack, "Karpenter", &irsarole.Props{Cluster: ta.Cluster, Name: "karpenter", Namespace: "karpenter", CreateNamespace: true})
		} else {
			awscdk.NewCfnWaitConditionHandle(ta.Stack, jsii.String("Placeholder"), nil)
		}
		// both stacks are built before the first template is taken
		tpl := assertions.Template_FromStack(ta.ClusterStack, nil).ToJSON()
		return (*tpl)["Resources"].(map[string]any)
	}
	without, with := resources(false), resources(true)
	if len(with) != len(without) {
		t.Errorf("cluster stack resources: %d with the construct, %d without", len(with), len(without))
	}
	for id, r := range with {
		w, ok := without[id]
		if !ok {
			t.Errorf("construct added %s (%v) to the cluster stack", id, r.(map[string]any)["Type"])
			continue
		}
		if !reflect.DeepEqual(normalize(r), normalize(w)) {
			t.Errorf("construct changed cluster stack resource %s:\nwith:    %v\nwithout: %v", id, normalize(r), normalize(w))
		}
	}
}

// normalize blanks nested stack template URLs, whose asset hash changes when
// a nested stack gains an output for the second stack (aws-eks v1 kept its
// kubectl provider in one; aws-eks-v2 creates no nested stack).
func normalize(r any) any {
	m, _ := r.(map[string]any)
	if m == nil || m["Type"] != "AWS::CloudFormation::Stack" {
		return r
	}
	b, _ := json.Marshal(m)
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	delete(c["Properties"].(map[string]any), "TemplateURL")
	return c
}
