package karpenterpools

import (
	"testing"
)

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name    string
		version string
		mutate  func(classes []EC2NodeClass, pools []NodePool) ([]EC2NodeClass, []NodePool)
		want    string
	}{
		{
			name:    "malformed Kubernetes version",
			version: "1.35.2",
			want:    `karpenterpools: kubernetes version "1.35.2": must be 1.<minor>, e.g. "1.35"`,
		},
		{
			name:    "amiFamily AL2 on Kubernetes 1.35",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				c[0].Spec.AMIFamily = "AL2"
				c[0].Spec.AMISelectorTerms = []AMISelectorTerm{{ID: "ami-0123456789abcdef0"}}
				return c, p
			},
			want: `ec2NodeClasses[0] "system": spec.amiFamily "AL2": no Amazon Linux 2 AMIs exist for Kubernetes 1.35 (last is 1.32); use AL2023`,
		},
		{
			name:    "al2 alias on Kubernetes 1.33",
			version: "1.33",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				c[1].Spec.AMISelectorTerms = []AMISelectorTerm{{Alias: "al2@v20250101"}}
				return c, p
			},
			want: `ec2NodeClasses[1] "gpu": spec.amiSelectorTerms[0].alias "al2@v20250101": no Amazon Linux 2 AMIs exist for Kubernetes 1.33 (last is 1.32); use al2023@<version>`,
		},
		{
			name:    "unpinned alias",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				c[0].Spec.AMISelectorTerms = []AMISelectorTerm{{Alias: "al2023@latest"}}
				return c, p
			},
			want: `ec2NodeClasses[0] "system": spec.amiSelectorTerms[0].alias "al2023@latest": pin an AMI release (e.g. al2023@v20260714); latest replaces every node on each AMI release`,
		},
		{
			name:    "duplicate pool names",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				p[1].Metadata.Name = p[0].Metadata.Name
				p[1].Spec.Template.Spec.NodeClassRef.Name = SystemClass
				return c, p
			},
			want: `nodePools[1] "system": metadata.name "system": used twice; names must be unique`,
		},
		{
			name:    "duplicate class names",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				c[1].Metadata.Name = SystemClass
				p[1].Spec.Template.Spec.NodeClassRef.Name = SystemClass
				return c, p
			},
			want: `ec2NodeClasses[1] "system": metadata.name "system": used twice; names must be unique`,
		},
		{
			name:    "invalid pool name",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				p[0].Metadata.Name = "System_Pool"
				return c, p
			},
			want: `nodePools[0] "System_Pool": metadata.name "System_Pool": must be a lowercase RFC 1123 subdomain`,
		},
		{
			name:    "nodeClassRef to an unknown class",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				p[1].Spec.Template.Spec.NodeClassRef.Name = "gpus"
				return c, p
			},
			want: `nodePools[1] "gpu": spec.template.spec.nodeClassRef.name "gpus": no such EC2NodeClass, want one of "gpu", "system"`,
		},
		{
			name:    "nodeClassRef to another kind",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				p[0].Spec.Template.Spec.NodeClassRef.Kind = "NodeClass"
				return c, p
			},
			want: `nodePools[0] "system": spec.template.spec.nodeClassRef karpenter.k8s.aws/NodeClass: must be group "karpenter.k8s.aws" kind "EC2NodeClass"`,
		},
		{
			name:    "pool without limits",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				p[1].Spec.Limits = nil
				return c, p
			},
			want: `nodePools[1] "gpu": spec.limits: must be set (e.g. cpu, memory, nvidia.com/gpu): a pool without limits can launch instances without bound`,
		},
		{
			name:    "pool without disruption",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				p[0].Spec.Disruption = nil
				return c, p
			},
			want: `nodePools[0] "system": spec.disruption.consolidateAfter: must be set (e.g. "30s", "Never"); the upstream default 0s consolidates immediately`,
		},
		{
			name:    "several problems are all reported",
			version: "1.35",
			mutate: func(c []EC2NodeClass, p []NodePool) ([]EC2NodeClass, []NodePool) {
				c[0].Spec.AMIFamily = "AL2"
				p[1].Spec.Limits = nil
				return c, p
			},
			want: `ec2NodeClasses[0] "system": spec.amiFamily "AL2": no Amazon Linux 2 AMIs exist for Kubernetes 1.35 (last is 1.32); use AL2023` + "\n" +
				`nodePools[1] "gpu": spec.limits: must be set (e.g. cpu, memory, nvidia.com/gpu): a pool without limits can launch instances without bound`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			classes, pools := DefaultEC2NodeClasses(testInput), configuredPools()
			if tt.mutate != nil {
				classes, pools = tt.mutate(classes, pools)
			}
			err := Validate(tt.version, classes, pools)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestValidateAcceptsDefaults(t *testing.T) {
	for _, version := range []string{"1.33", "1.34", "1.35"} {
		t.Run(version, func(t *testing.T) {
			if err := Validate(version, DefaultEC2NodeClasses(testInput), configuredPools()); err != nil {
				t.Errorf("Validate(%s, defaults) = %v", version, err)
			}
		})
	}
	t.Run("al2 alias on 1.32", func(t *testing.T) {
		classes := DefaultEC2NodeClasses(testInput)
		classes[0].Spec.AMISelectorTerms = []AMISelectorTerm{{Alias: "al2@v20250101"}}
		if err := Validate("1.32", classes, configuredPools()); err != nil {
			t.Errorf("Validate = %v", err)
		}
	})
}

func TestDefaultNodePoolsReferToDefaultClasses(t *testing.T) {
	classes := map[string]bool{}
	for _, c := range DefaultEC2NodeClasses(testInput) {
		classes[c.Metadata.Name] = true
	}
	for _, p := range configuredPools() {
		if ref := p.Spec.Template.Spec.NodeClassRef.Name; ref != p.Metadata.Name || !classes[ref] {
			t.Errorf("pool %q refers to class %q; want the class of the same name", p.Metadata.Name, ref)
		}
	}
}
