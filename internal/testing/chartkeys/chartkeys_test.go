package chartkeys_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/internal/testing/chartkeys"
)

const (
	karpenterSrc = "https://github.com/aws/karpenter-provider-aws tag v1.14.1 charts/karpenter (identical to release commit c88abbbad, which sets Chart.yaml version 1.14.1 and the image tag)"
	lbcSrc       = "https://github.com/kubernetes-sigs/aws-load-balancer-controller tag v3.5.0 helm/aws-load-balancer-controller (same values.yaml as aws/eks-charts stable/aws-load-balancer-controller at v0.0.242)"
	crdSrc       = "https://github.com/aws/karpenter-provider-aws tag v1.14.1 charts/karpenter-crd (Chart.yaml version 1.14.1 set by release commit c88abbbad)"
	nvidiaSrc    = "https://github.com/NVIDIA/k8s-device-plugin tag v0.20.0 deployments/helm/nvidia-device-plugin (Helm repo https://nvidia.github.io/k8s-device-plugin)"
)

type m = map[string]any

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		chart   string
		version string
		values  map[string]any
		wantErr string
	}{
		// Failure cases first.
		{"unknown chart version", "karpenter", "1.15.0", m{"replicas": 2},
			`chartkeys: no key list for chart "karpenter" version "1.15.0" (have: aws-load-balancer-controller 3.5.0, karpenter 1.14.1, karpenter-crd 1.14.1, nvidia-device-plugin 0.20.0); derive one with go run ./internal/testing/chartkeys/gen`},
		{"unknown chart", "cert-manager", "1.19.0", nil,
			`chartkeys: no key list for chart "cert-manager" version "1.19.0" (have: aws-load-balancer-controller 3.5.0, karpenter 1.14.1, karpenter-crd 1.14.1, nvidia-device-plugin 0.20.0); derive one with go run ./internal/testing/chartkeys/gen`},
		{"karpenter: typo in a nested key", "karpenter", "1.14.1", m{"settings": m{"clusterNme": "llm"}},
			"chartkeys: karpenter 1.14.1 has no values key settings.clusterNme (source: " + karpenterSrc + ")"},
		{"karpenter: every unknown key listed, sorted", "karpenter", "1.14.1",
			m{"replicaCount": 2, "serviceAccount": m{"nmae": "karpenter"}, "settings": m{"aws": m{"clusterName": "llm"}}},
			"chartkeys: karpenter 1.14.1 has no values key replicaCount, serviceAccount.nmae, settings.aws (source: " + karpenterSrc + ")"},
		{"karpenter: sub-keys under a scalar key", "karpenter", "1.14.1", m{"replicas": m{"min": 2}},
			"chartkeys: karpenter 1.14.1 has no values key replicas.min (source: " + karpenterSrc + ")"},
		{"karpenter: resources live under controller", "karpenter", "1.14.1", m{"resources": m{}},
			"chartkeys: karpenter 1.14.1 has no values key resources (source: " + karpenterSrc + ")"},
		{"lbc: Karpenter's replica key is not LBC's", "aws-load-balancer-controller", "3.5.0", m{"replicas": 2},
			"chartkeys: aws-load-balancer-controller 3.5.0 has no values key replicas (source: " + lbcSrc + ")"},
		{"lbc: typo", "aws-load-balancer-controller", "3.5.0", m{"vpcID": "vpc-1"},
			"chartkeys: aws-load-balancer-controller 3.5.0 has no values key vpcID (source: " + lbcSrc + ")"},
		{"karpenter-crd: only annotations", "karpenter-crd", "1.14.1", m{"webhook": m{"enabled": false}},
			"chartkeys: karpenter-crd 1.14.1 has no values key webhook (source: " + crdSrc + ")"},
		{"nvidia: typo", "nvidia-device-plugin", "0.20.0", m{"toleration": []any{}},
			"chartkeys: nvidia-device-plugin 0.20.0 has no values key toleration (source: " + nvidiaSrc + ")"},

		// Accepted values.
		{"karpenter: the values the platform sets", "karpenter", "1.14.1", m{
			"settings":            m{"clusterName": "llm", "clusterEndpoint": "https://x", "interruptionQueue": "q"},
			"serviceAccount":      m{"create": false, "name": "karpenter", "annotations": m{"eks.amazonaws.com/role-arn": "arn"}},
			"replicas":            2,
			"controller":          m{"resources": m{"requests": m{"cpu": "1", "memory": "1Gi"}, "limits": m{"memory": "1Gi"}}},
			"podDisruptionBudget": m{"maxUnavailable": 1},
		}, ""},
		{"karpenter: free-form maps take arbitrary sub-keys", "karpenter", "1.14.1", m{
			"nodeSelector": m{"node.kubernetes.io/purpose": "system"},
			"affinity":     m{"nodeAffinity": m{"anything": m{"deep": true}}},
			"tolerations":  []any{m{"key": "CriticalAddonsOnly", "operator": "Exists"}},
		}, ""},
		{"karpenter: typed Go maps are walked too", "karpenter", "1.14.1", m{
			"nodeSelector": map[string]string{"kubernetes.io/os": "linux"},
			"settings":     &map[string]string{"clusterName": "llm"},
		}, ""},
		{"karpenter: empty values", "karpenter", "1.14.1", nil, ""},
		{"karpenter-crd: annotations", "karpenter-crd", "1.14.1", m{"additionalAnnotations": m{"a/b": "c"}}, ""},
		{"lbc: the values the platform sets", "aws-load-balancer-controller", "3.5.0", m{
			"clusterName": "llm", "region": "us-west-2", "vpcId": "vpc-1",
			"serviceAccount":             m{"create": false, "name": "aws-load-balancer-controller"},
			"replicaCount":               2,
			"resources":                  m{"requests": m{"cpu": "100m"}},
			"podDisruptionBudget":        m{"maxUnavailable": 1},
			"ingressClass":               "alb",
			"createIngressClassResource": true,
			"ingressClassConfig":         m{"default": false},
			"nodeSelector":               m{"node.kubernetes.io/purpose": "system"},
		}, ""},
		{"nvidia: scheduling and NFD", "nvidia-device-plugin", "0.20.0", m{
			"tolerations":  []any{m{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}},
			"nodeSelector": m{"node.kubernetes.io/purpose": "gpu-inference"},
			"affinity":     m{},
			"nfd":          m{"enabled": true, "worker": m{"anything": 1}},
			"gfd":          m{"enabled": false},
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := chartkeys.Check(tt.chart, tt.version, tt.values)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("Check() error\n got  %q\n want %q", got, tt.wantErr)
			}
		})
	}
}

func TestKeyLists(t *testing.T) {
	want := []string{"aws-load-balancer-controller 3.5.0", "karpenter 1.14.1", "karpenter-crd 1.14.1", "nvidia-device-plugin 0.20.0"}
	if got := chartkeys.Available(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Available() = %v, want %v", got, want)
	}
	// Facts the platform relies on, one per case.
	facts := []struct {
		chart, version, key string
	}{
		{"karpenter", "1.14.1", "settings.clusterName"},
		{"karpenter", "1.14.1", "settings.clusterEndpoint"},
		{"karpenter", "1.14.1", "settings.interruptionQueue"},
		{"karpenter", "1.14.1", "serviceAccount.create"},
		{"karpenter", "1.14.1", "serviceAccount.name"},
		{"karpenter", "1.14.1", "serviceAccount.annotations *"},
		{"karpenter", "1.14.1", "replicas"},
		{"karpenter", "1.14.1", "controller.resources *"},
		{"karpenter", "1.14.1", "affinity *"},
		{"karpenter", "1.14.1", "nodeSelector *"},
		{"karpenter", "1.14.1", "tolerations *"},
		{"karpenter", "1.14.1", "podDisruptionBudget.maxUnavailable"},
		{"aws-load-balancer-controller", "3.5.0", "clusterName *"},
		{"aws-load-balancer-controller", "3.5.0", "region *"},
		{"aws-load-balancer-controller", "3.5.0", "vpcId *"},
		{"aws-load-balancer-controller", "3.5.0", "serviceAccount.create"},
		{"aws-load-balancer-controller", "3.5.0", "serviceAccount.name *"},
		{"aws-load-balancer-controller", "3.5.0", "replicaCount"},
		{"aws-load-balancer-controller", "3.5.0", "resources *"},
		{"aws-load-balancer-controller", "3.5.0", "podDisruptionBudget *"},
		{"aws-load-balancer-controller", "3.5.0", "ingressClass"},
		{"aws-load-balancer-controller", "3.5.0", "createIngressClassResource"},
		{"nvidia-device-plugin", "0.20.0", "tolerations *"},
		{"nvidia-device-plugin", "0.20.0", "nodeSelector *"},
		{"nvidia-device-plugin", "0.20.0", "affinity *"},
		{"nvidia-device-plugin", "0.20.0", "nfd *"},
		{"nvidia-device-plugin", "0.20.0", "gfd.enabled"},
		{"karpenter-crd", "1.14.1", "additionalAnnotations *"},
	}
	for _, f := range facts {
		t.Run(f.chart+" "+f.key, func(t *testing.T) {
			keys, err := chartkeys.Keys(f.chart, f.version)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, k := range keys {
				found = found || k == f.key
			}
			if !found {
				t.Errorf("%s %s: key %q not in key list", f.chart, f.version, f.key)
			}
		})
	}
	t.Run("no key list entry lies under a free-form key", func(t *testing.T) {
		for _, cv := range chartkeys.Available() {
			chart, version, _ := strings.Cut(cv, " ")
			keys, _ := chartkeys.Keys(chart, version)
			free := map[string]bool{}
			for _, k := range keys {
				if p, ok := strings.CutSuffix(k, " *"); ok {
					free[p] = true
				}
			}
			for _, k := range keys {
				parts := strings.Split(strings.TrimSuffix(k, " *"), ".")
				for i := 1; i < len(parts); i++ {
					if prefix := strings.Join(parts[:i], "."); free[prefix] {
						t.Errorf("%s: %s lies under free-form %s", cv, k, prefix)
					}
				}
			}
		}
	})
}
