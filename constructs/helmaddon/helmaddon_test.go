package helmaddon_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/helmaddon"
	"github.com/hybrid-llm/platform/constructs/irsarole"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// newTestApp builds the shape the platform uses: a cluster stack (with its
// OIDC provider) and a second stack that holds the constructs under test.
func newTestApp(t *testing.T) *cdktest.ClusterApp {
	t.Helper()
	return cdktest.NewClusterApp(t, &cdktest.ClusterAppOptions{OIDCProvider: true})
}

// charts returns the HelmChart resources of tpl by logical id, as plain JSON.
func charts(t *testing.T, tpl assertions.Template) map[string]map[string]any {
	t.Helper()
	return cdktest.Resources(t, tpl, *awseksv2.HelmChart_RESOURCE_TYPE())
}

func onlyChart(t *testing.T, tpl assertions.Template) map[string]any {
	t.Helper()
	cs := charts(t, tpl)
	if len(cs) != 1 {
		t.Fatalf("HelmChart resources = %d, want 1", len(cs))
	}
	for _, c := range cs {
		return c
	}
	return nil
}

func validProps(c awseksv2.ICluster) *helmaddon.Props {
	return &helmaddon.Props{
		Cluster:    c,
		Chart:      "aws-load-balancer-controller",
		Repository: "https://aws.github.io/eks-charts",
		Version:    "3.5.0",
		Release:    "aws-load-balancer-controller",
		Namespace:  "kube-system",
	}
}

func TestNewRejectsMisuse(t *testing.T) {
	long := strings.Repeat("a", 54)
	tests := []struct {
		name   string
		mutate func(p *helmaddon.Props)
		want   string
	}{
		{"no cluster", func(p *helmaddon.Props) { p.Cluster = nil }, "helmaddon: cluster is required"},
		{"no chart", func(p *helmaddon.Props) { p.Chart = "" }, "helmaddon: chart is required"},
		{"chart with repository", func(p *helmaddon.Props) { p.Chart = "eks/aws-load-balancer-controller" },
			`helmaddon: chart "eks/aws-load-balancer-controller" is not a plain chart name (put the repository in Repository)`},
		{"no repository", func(p *helmaddon.Props) { p.Repository = "" }, "helmaddon: repository is required"},
		{"http repository", func(p *helmaddon.Props) { p.Repository = "http://aws.github.io/eks-charts" },
			`helmaddon: repository "http://aws.github.io/eks-charts" is not an https:// or oci:// URL`},
		{"repository without scheme", func(p *helmaddon.Props) { p.Repository = "public.ecr.aws/karpenter" },
			`helmaddon: repository "public.ecr.aws/karpenter" is not an https:// or oci:// URL`},
		{"oci repository without host", func(p *helmaddon.Props) { p.Repository = "oci:///karpenter" },
			`helmaddon: repository "oci:///karpenter" is not an https:// or oci:// URL`},
		{"no version", func(p *helmaddon.Props) { p.Version = "" }, "helmaddon: version is required (pin an exact chart version)"},
		{"latest", func(p *helmaddon.Props) { p.Version = "latest" },
			`helmaddon: version "latest" is not an exact semantic version (ranges, wildcards and "latest" are not allowed)`},
		{"caret range", func(p *helmaddon.Props) { p.Version = "^3.5.0" },
			`helmaddon: version "^3.5.0" is not an exact semantic version (ranges, wildcards and "latest" are not allowed)`},
		{"tilde range", func(p *helmaddon.Props) { p.Version = "~3.5.0" },
			`helmaddon: version "~3.5.0" is not an exact semantic version (ranges, wildcards and "latest" are not allowed)`},
		{"comparison", func(p *helmaddon.Props) { p.Version = ">=3.5.0" },
			`helmaddon: version ">=3.5.0" is not an exact semantic version (ranges, wildcards and "latest" are not allowed)`},
		{"wildcard", func(p *helmaddon.Props) { p.Version = "3.x" },
			`helmaddon: version "3.x" is not an exact semantic version (ranges, wildcards and "latest" are not allowed)`},
		{"partial", func(p *helmaddon.Props) { p.Version = "3.5" },
			`helmaddon: version "3.5" is not an exact semantic version (ranges, wildcards and "latest" are not allowed)`},
		{"leading zero", func(p *helmaddon.Props) { p.Version = "3.05.0" },
			`helmaddon: version "3.05.0" is not an exact semantic version (ranges, wildcards and "latest" are not allowed)`},
		{"no release", func(p *helmaddon.Props) { p.Release = "" }, "helmaddon: release is required"},
		{"uppercase release", func(p *helmaddon.Props) { p.Release = "Karpenter" },
			`helmaddon: release "Karpenter" is not a valid Helm release name (RFC 1123 subdomain, at most 53 characters)`},
		{"underscore release", func(p *helmaddon.Props) { p.Release = "my_release" },
			`helmaddon: release "my_release" is not a valid Helm release name (RFC 1123 subdomain, at most 53 characters)`},
		{"release too long", func(p *helmaddon.Props) { p.Release = long },
			fmt.Sprintf(`helmaddon: release %q is not a valid Helm release name (RFC 1123 subdomain, at most 53 characters)`, long)},
		{"invalid namespace", func(p *helmaddon.Props) { p.Namespace = "Kube_System" },
			`helmaddon: namespace "Kube_System" is not a valid RFC 1123 label (lowercase alphanumerics or '-', at most 63 characters, alphanumeric at both ends)`},
		{"timeout over 15 minutes", func(p *helmaddon.Props) { p.Timeout = awscdk.Duration_Minutes(jsii.Number(16)) },
			"helmaddon: timeout 960s is not between 1s and 900s (the kubectl handler Lambda stops after 15 minutes)"},
	}
	ta := newTestApp(t)
	t.Run("nil props", func(t *testing.T) {
		if got, want := cdktest.PanicText(func() { helmaddon.New(ta.Stack, "Nil", nil) }), "helmaddon: props are required"; got != want {
			t.Errorf("panic = %q, want %q", got, want)
		}
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProps(ta.Cluster)
			tt.mutate(p)
			got := cdktest.PanicText(func() { helmaddon.New(ta.Stack, fmt.Sprintf("Addon%d", i), p) })
			if got != tt.want {
				t.Errorf("panic = %q\nwant    %q", got, tt.want)
			}
		})
	}
	t.Run("namespace differs from the service account's", func(t *testing.T) {
		sa := irsarole.New(ta.Stack, "Sa", &irsarole.Props{Cluster: ta.Cluster, Name: "karpenter", Namespace: "karpenter"})
		p := validProps(ta.Cluster)
		p.ServiceAccount = sa
		got := cdktest.PanicText(func() { helmaddon.New(ta.Stack, "Mismatch", p) })
		if want := `helmaddon: release namespace "kube-system" differs from the service account's namespace "karpenter"`; got != want {
			t.Errorf("panic = %q\nwant    %q", got, want)
		}
	})
}

func TestValidVersions(t *testing.T) {
	for _, v := range []string{"1.14.1", "0.0.0", "v0.32.1", "1.0.0-rc.1", "1.0.0-alpha-1.0", "1.0.0+build.5", "10.20.30-beta.1+sha.abc"} {
		if err := helmaddon.ValidateVersion(v); err != nil {
			t.Errorf("ValidateVersion(%q) = %v, want nil", v, err)
		}
	}
	for _, r := range []string{"https://aws.github.io/eks-charts", "oci://public.ecr.aws/karpenter", "oci://111111111111.dkr.ecr.us-west-2.amazonaws.com/charts"} {
		if err := helmaddon.ValidateRepository(r); err != nil {
			t.Errorf("ValidateRepository(%q) = %v, want nil", r, err)
		}
	}
	for _, r := range []string{"a", "karpenter", "lbc.v2", strings.Repeat("a", 53)} {
		if err := helmaddon.ValidateRelease(r); err != nil {
			t.Errorf("ValidateRelease(%q) = %v, want nil", r, err)
		}
	}
}

func TestHTTPSChart(t *testing.T) {
	ta := newTestApp(t)
	p := validProps(ta.Cluster)
	p.Values = map[string]any{
		"clusterName":  "platform",
		"replicaCount": 2,
		"resources":    map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}},
		"tolerations":  []any{map[string]any{"key": "a"}},
	}
	a := helmaddon.New(ta.Stack, "Lbc", p)
	tpl := assertions.Template_FromStack(ta.Stack, nil)

	wantValues := map[string]any{
		"clusterName":  "platform",
		"replicaCount": 2,
		"resources":    map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}},
		"tolerations":  []any{map[string]any{"key": "a"}},
	}
	t.Run("release properties and values", func(t *testing.T) {
		cdktest.Check(t, "chart", func() {
			tpl.HasResourceProperties(awseksv2.HelmChart_RESOURCE_TYPE(), &map[string]any{
				"Chart":      "aws-load-balancer-controller",
				"Repository": "https://aws.github.io/eks-charts",
				"Version":    "3.5.0",
				"Release":    "aws-load-balancer-controller",
				"Namespace":  "kube-system",
				"Timeout":    "300s",
				"Values":     assertions.Match_SerializedJson(&wantValues),
			})
		})
	})
	t.Run("flags default to off", func(t *testing.T) {
		props := onlyChart(t, tpl)["Properties"].(map[string]any)
		for _, k := range []string{"Wait", "SkipCrds", "CreateNamespace"} {
			if v, ok := props[k]; ok {
				t.Errorf("%s = %v, want absent", k, v)
			}
		}
	})
	t.Run("exported fields", func(t *testing.T) {
		if a.Release != "aws-load-balancer-controller" || a.Namespace != "kube-system" || a.Repository != "https://aws.github.io/eks-charts" {
			t.Errorf("Addon = %+v", a)
		}
		if !reflect.DeepEqual(a.Values, wantValues) {
			t.Errorf("Values = %v, want %v", a.Values, wantValues)
		}
	})
	t.Run("chart lives in the caller's stack only", func(t *testing.T) {
		cdktest.Check(t, "addons stack", func() { tpl.ResourceCountIs(awseksv2.HelmChart_RESOURCE_TYPE(), jsii.Number(1)) })
		clusterTpl := assertions.Template_FromStack(ta.ClusterStack, nil)
		cdktest.Check(t, "cluster stack", func() { clusterTpl.ResourceCountIs(awseksv2.HelmChart_RESOURCE_TYPE(), jsii.Number(0)) })
	})
}

func TestOCIChartAndFlags(t *testing.T) {
	ta := newTestApp(t)
	crd := helmaddon.New(ta.Stack, "KarpenterCrd", &helmaddon.Props{
		Cluster: ta.Cluster, Chart: "karpenter-crd", Repository: "oci://public.ecr.aws/karpenter",
		Version: "1.14.1", Release: "karpenter-crd", Namespace: "karpenter", CreateNamespace: true,
	})
	helmaddon.New(ta.Stack, "Karpenter", &helmaddon.Props{
		Cluster: ta.Cluster, Chart: "karpenter", Repository: "oci://public.ecr.aws/karpenter/",
		Version: "1.14.1", Release: "karpenter", Namespace: "karpenter",
		Wait: true, SkipCrds: true, Timeout: awscdk.Duration_Minutes(jsii.Number(15)),
		DependsOn: []constructs.IDependable{crd.Chart},
	})
	tpl := assertions.Template_FromStack(ta.Stack, nil)

	t.Run("oci repository is the full chart reference the handler pulls", func(t *testing.T) {
		cdktest.Check(t, "crd chart", func() {
			tpl.HasResourceProperties(awseksv2.HelmChart_RESOURCE_TYPE(), &map[string]any{
				"Chart": "karpenter-crd", "Repository": "oci://public.ecr.aws/karpenter/karpenter-crd",
				"Version": "1.14.1", "CreateNamespace": true,
				"Values": assertions.Match_Absent(),
			})
		})
	})
	t.Run("flags and timeout are passed", func(t *testing.T) {
		cdktest.Check(t, "karpenter chart", func() {
			tpl.HasResourceProperties(awseksv2.HelmChart_RESOURCE_TYPE(), &map[string]any{
				"Chart": "karpenter", "Repository": "oci://public.ecr.aws/karpenter/karpenter",
				"Wait": true, "SkipCrds": true, "Timeout": "900s",
				"CreateNamespace": assertions.Match_Absent(),
			})
		})
	})
	t.Run("DependsOn orders the release after the CRD chart", func(t *testing.T) {
		var crdID string
		var main map[string]any
		for id, c := range charts(t, tpl) {
			switch c["Properties"].(map[string]any)["Chart"] {
			case "karpenter-crd":
				crdID = id
			case "karpenter":
				main = c
			}
		}
		if crdID == "" || main == nil || !strings.Contains(fmt.Sprint(main["DependsOn"]), crdID) {
			t.Errorf("karpenter DependsOn = %v, want it to contain the CRD chart %q", main["DependsOn"], crdID)
		}
	})
}

func TestServiceAccount(t *testing.T) {
	ta := newTestApp(t)
	sa := irsarole.New(ta.Stack, "KarpenterIrsa", &irsarole.Props{
		Cluster: ta.Cluster, Name: "karpenter", Namespace: "karpenter", CreateNamespace: true,
	})
	helmaddon.New(ta.Stack, "Karpenter", &helmaddon.Props{
		Cluster: ta.Cluster, Chart: "karpenter", Repository: "oci://public.ecr.aws/karpenter",
		Version: "1.14.1", Release: "karpenter", ServiceAccount: sa,
		Values: map[string]any{"settings": map[string]any{"clusterName": "platform"}},
	})
	tpl := assertions.Template_FromStack(ta.Stack, nil)

	t.Run("namespace defaults to the service account's and values name the account", func(t *testing.T) {
		cdktest.Check(t, "chart", func() {
			tpl.HasResourceProperties(awseksv2.HelmChart_RESOURCE_TYPE(), &map[string]any{
				"Release":   "karpenter",
				"Namespace": "karpenter",
				"Values": assertions.Match_SerializedJson(&map[string]any{
					"serviceAccount": map[string]any{"create": false, "name": "karpenter"},
					"settings":       map[string]any{"clusterName": "platform"},
				}),
			})
		})
	})
	t.Run("chart depends on the service account manifest", func(t *testing.T) {
		saID := ""
		for id, r := range *tpl.FindResources(awseksv2.KubernetesManifest_RESOURCE_TYPE(), nil) {
			b, _ := json.Marshal(r)
			if strings.Contains(string(b), `\"kind\":\"ServiceAccount\"`) && strings.Contains(string(b), `\"name\":\"karpenter\"`) {
				saID = id
			}
		}
		var deps string
		for _, c := range charts(t, tpl) {
			if c["Properties"].(map[string]any)["Release"] == "karpenter" {
				deps = fmt.Sprint(c["DependsOn"])
			}
		}
		if saID == "" || !strings.Contains(deps, saID) {
			t.Errorf("karpenter chart DependsOn = %s, want it to contain the ServiceAccount manifest %q", deps, saID)
		}
	})
}

// TestTokenValues proves values may carry CloudFormation tokens from the
// cluster stack (cluster name, queue name, ...): they are resolved by CloudFormation inside the Values JSON string.
func TestTokenValues(t *testing.T) {
	ta := newTestApp(t)
	p := validProps(ta.Cluster)
	p.Values = map[string]any{"clusterName": *ta.Cluster.ClusterName()}
	helmaddon.New(ta.Stack, "Lbc", p)
	tpl := assertions.Template_FromStack(ta.Stack, nil)
	values := onlyChart(t, tpl)["Properties"].(map[string]any)["Values"]
	join, ok := values.(map[string]any)["Fn::Join"].([]any)
	if !ok {
		t.Fatalf("Values = %v, want an Fn::Join", values)
	}
	var text string
	for _, part := range join[1].([]any) {
		switch part := part.(type) {
		case string:
			text += part
		case map[string]any:
			if _, ok := part["Fn::ImportValue"]; !ok {
				t.Fatalf("unexpected part %v", part)
			}
			text += "CLUSTER"
		}
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("values %q: %v", text, err)
	}
	if want := map[string]any{"clusterName": "CLUSTER"}; !reflect.DeepEqual(got, want) {
		t.Errorf("values = %v, want %v", got, want)
	}
}
