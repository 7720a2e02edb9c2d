package karpenterpools

import (
	"maps"
	"strconv"

	"github.com/hybrid-llm/platform/platform"
)

// The names of the default EC2NodeClasses (and of the default NodePools).
const (
	// SystemClass is the EC2NodeClass for platform components on
	// general-purpose nodes.
	SystemClass = platform.NodeClassSystem
	// GPUClass is the EC2NodeClass for GPU inference.
	GPUClass = platform.NodeClassGPU
)

// NodeClassInput is what the default EC2NodeClasses need from the cluster.
// String fields may be CDK tokens unless said otherwise.
type NodeClassInput struct {
	// ClusterName is the EKS cluster name; subnets are selected by the tag
	// karpenter.sh/discovery=<ClusterName> the network stack puts on private
	// subnets. Must be a plain string (the cluster name is known at synth).
	ClusterName string
	// ClusterSecurityGroupID is the EKS cluster security group id
	// (awseks.ICluster.ClusterSecurityGroupId()), attached to every node.
	ClusterSecurityGroupID string
	// NodeRoleName is the name of the Karpenter node IAM role (joined to the
	// cluster by an EC2_LINUX access entry); Karpenter creates the instance
	// profiles for it.
	NodeRoleName string
	// AMIAlias pins the EKS-optimized AL2023 AMI release, e.g.
	// "al2023@v20260714" (https://github.com/awslabs/amazon-eks-ami/releases).
	// Karpenter picks the standard, NVIDIA or Neuron variant per instance
	// type from that alias.
	AMIAlias string
	// Tags are added to the instances, volumes and launch templates.
	// Optional; Karpenter adds its own discovery tags.
	Tags map[string]string
}

// DefaultEC2NodeClasses returns the platform's EC2NodeClasses: "system"
// (50Gi encrypted gp3 root) and "gpu" (200Gi encrypted gp3 root, local NVMe
// instance store as RAID0 for images, emptyDirs and model weights). Both use
// in.AMIAlias, IMDSv2 only with hop limit 1 (Karpenter's default:
// pods off the host network cannot reach the node role; pods use IRSA).
func DefaultEC2NodeClasses(in NodeClassInput) []EC2NodeClass {
	class := func(name, rootSize string) EC2NodeClass {
		return EC2NodeClass{
			Metadata: ObjectMeta{Name: name},
			Spec: EC2NodeClassSpec{
				AMISelectorTerms: []AMISelectorTerm{{Alias: in.AMIAlias}},
				SubnetSelectorTerms: []SubnetSelectorTerm{{
					Tags: map[string]string{platform.TagKarpenterDiscovery: in.ClusterName},
				}},
				SecurityGroupSelectorTerms: []SecurityGroupSelectorTerm{{ID: in.ClusterSecurityGroupID}},
				Role:                       in.NodeRoleName,
				BlockDeviceMappings: []BlockDeviceMapping{{
					DeviceName: "/dev/xvda", // AL2023 root device
					RootVolume: true,
					EBS: &BlockDevice{
						VolumeSize:          rootSize,
						VolumeType:          "gp3",
						Encrypted:           ptr(true),
						DeleteOnTermination: ptr(true),
					},
				}},
				MetadataOptions: &MetadataOptions{
					HTTPEndpoint:            "enabled",
					HTTPProtocolIPv6:        "disabled",
					HTTPPutResponseHopLimit: ptr(int64(1)),
					HTTPTokens:              "required",
				},
				Tags: maps.Clone(in.Tags),
			},
		}
	}
	system := class(SystemClass, "50Gi")
	gpu := class(GPUClass, "200Gi")
	gpu.Spec.InstanceStorePolicy = "RAID0"
	return []EC2NodeClass{system, gpu}
}

// RenderNodePool renders the platform's model of a pool (which config
// derives and validates) as a karpenter.sh/v1 NodePool referencing the
// EC2NodeClass p.NodeClass. On top of p, every pool is amd64 Linux, expires
// its nodes after 720h and bounds draining to 10m (terminationGracePeriod),
// which also keeps teardown inside the 15-minute limit of the CDK kubectl
// handler. The result shares no slice or map with p.
func RenderNodePool(p platform.NodePool) NodePool {
	in := func(key string, values ...string) NodeSelectorRequirement {
		return NodeSelectorRequirement{Key: key, Operator: "In", Values: append([]string(nil), values...)}
	}
	reqs := []NodeSelectorRequirement{
		in(platform.LabelCapacityType, p.CapacityTypes...),
		in(platform.LabelArch, "amd64"),
		in(platform.LabelOS, "linux"),
		in(platform.LabelInstanceFamily, p.InstanceFamilies...),
	}
	if len(p.InstanceSizes) > 0 {
		reqs = append(reqs, in(platform.LabelInstanceSize, p.InstanceSizes...))
	}
	var taints []Taint
	for _, t := range p.Taints {
		taints = append(taints, Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
	}
	limits := map[string]string{}
	if p.CPULimit > 0 {
		limits["cpu"] = strconv.Itoa(p.CPULimit)
	}
	if p.MemoryLimitGiB > 0 {
		limits["memory"] = strconv.Itoa(p.MemoryLimitGiB) + "Gi"
	}
	if p.GPULimit > 0 {
		limits[platform.ResourceGPU] = strconv.Itoa(p.GPULimit)
	}
	return NodePool{
		Metadata: ObjectMeta{Name: p.Name},
		Spec: NodePoolSpec{
			Template: NodeClaimTemplate{
				Metadata: &TemplateMetadata{Labels: maps.Clone(p.Labels)},
				Spec: NodeClaimTemplateSpec{
					NodeClassRef:           NodeClassReference{Group: EC2NodeClassGroup, Kind: EC2NodeClassKind, Name: p.NodeClass},
					Requirements:           reqs,
					Taints:                 taints,
					ExpireAfter:            "720h",
					TerminationGracePeriod: "10m",
				},
			},
			Disruption: &Disruption{
				ConsolidationPolicy: p.ConsolidationPolicy,
				ConsolidateAfter:    p.ConsolidateAfter,
				Budgets:             []Budget{{Nodes: p.DisruptionBudget}},
			},
			Limits: limits,
		},
	}
}

// RenderNodePools renders each of pools with RenderNodePool.
func RenderNodePools(pools []platform.NodePool) []NodePool {
	out := make([]NodePool, len(pools))
	for i, p := range pools {
		out[i] = RenderNodePool(p)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
