package karpenterpools

import "maps"

// Names of the default pools and of their EC2NodeClasses.
const (
	// SystemPool names the default NodePool and EC2NodeClass for platform
	// components (controllers, ingress) on on-demand general-purpose nodes.
	SystemPool = "system"
	// GPUPool names the default NodePool and EC2NodeClass for GPU inference.
	GPUPool = "gpu"
)

// Well-known node label keys used in requirements and labels.
const (
	// LabelCapacityType is karpenter.sh/capacity-type: on-demand, spot, reserved.
	LabelCapacityType = "karpenter.sh/capacity-type"
	// LabelInstanceFamily is karpenter.k8s.aws/instance-family, e.g. m7i.
	LabelInstanceFamily = "karpenter.k8s.aws/instance-family"
	// LabelInstanceSize is karpenter.k8s.aws/instance-size, e.g. 2xlarge.
	LabelInstanceSize = "karpenter.k8s.aws/instance-size"
	// LabelArch is kubernetes.io/arch.
	LabelArch = "kubernetes.io/arch"
	// LabelOS is kubernetes.io/os.
	LabelOS = "kubernetes.io/os"
	// LabelPurpose is node.kubernetes.io/purpose, the label the platform's
	// managed node groups carry too (system, gpu-inference).
	LabelPurpose = "node.kubernetes.io/purpose"
	// ResourceGPU is the extended resource the NVIDIA device plugin advertises.
	ResourceGPU = "nvidia.com/gpu"
	// LabelGPUPresent marks GPU nodes for the NVIDIA device plugin: its chart's
	// default node affinity (nvidia-device-plugin 0.20.0) requires this label or
	// Node Feature Discovery labels, which EKS does not set.
	LabelGPUPresent = "nvidia.com/gpu.present"
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
	// AMIVersion pins the EKS-optimized AL2023 AMI release, e.g. "v20260714"
	// (https://github.com/awslabs/amazon-eks-ami/releases); the classes use the
	// alias al2023@<AMIVersion>. Karpenter picks the standard, NVIDIA or
	// Neuron variant per instance type from that alias.
	AMIVersion string
	// Tags are added to the instances, volumes and launch templates.
	// Optional; Karpenter adds its own discovery tags.
	Tags map[string]string
}

// DefaultEC2NodeClasses returns the platform's EC2NodeClasses: "system"
// (50Gi encrypted gp3 root) and "gpu" (200Gi encrypted gp3 root, local NVMe
// instance store as RAID0 for images, emptyDirs and model weights). Both use
// al2023@<AMIVersion>, IMDSv2 only with hop limit 1 (Karpenter's default:
// pods off the host network cannot reach the node role; pods use IRSA).
func DefaultEC2NodeClasses(in NodeClassInput) []EC2NodeClass {
	class := func(name, rootSize string) EC2NodeClass {
		return EC2NodeClass{
			Metadata: ObjectMeta{Name: name},
			Spec: EC2NodeClassSpec{
				AMISelectorTerms: []AMISelectorTerm{{Alias: "al2023@" + in.AMIVersion}},
				SubnetSelectorTerms: []SubnetSelectorTerm{{
					Tags: map[string]string{"karpenter.sh/discovery": in.ClusterName},
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
	system := class(SystemPool, "50Gi")
	gpu := class(GPUPool, "200Gi")
	gpu.Spec.InstanceStorePolicy = "RAID0"
	return []EC2NodeClass{system, gpu}
}

// DefaultNodePools returns the platform's NodePools, each referencing the
// EC2NodeClass of the same name from DefaultEC2NodeClasses:
//
//   - "system": on-demand amd64 m7i/m6i xlarge/2xlarge, at most 32 vCPU and
//     128Gi, WhenEmptyOrUnderutilized after 30s, label
//     node.kubernetes.io/purpose=system.
//   - "gpu": spot and on-demand g5/g4dn/g6, at most 8 GPUs, taint
//     nvidia.com/gpu=present:NoSchedule, WhenEmpty after 1m (a node holding a
//     loaded model is never bin-packed away), one node disrupted at a time,
//     label node.kubernetes.io/purpose=gpu-inference.
//
// Both expire nodes after 720h and bound draining to 10m
// (terminationGracePeriod), which also keeps teardown inside the 15-minute
// limit of the CDK kubectl handler.
func DefaultNodePools() []NodePool {
	ref := func(name string) NodeClassReference {
		return NodeClassReference{Group: EC2NodeClassGroup, Kind: EC2NodeClassKind, Name: name}
	}
	in := func(key string, values ...string) NodeSelectorRequirement {
		return NodeSelectorRequirement{Key: key, Operator: "In", Values: values}
	}
	return []NodePool{
		{
			Metadata: ObjectMeta{Name: SystemPool},
			Spec: NodePoolSpec{
				Template: NodeClaimTemplate{
					Metadata: &TemplateMetadata{Labels: map[string]string{LabelPurpose: "system"}},
					Spec: NodeClaimTemplateSpec{
						NodeClassRef: ref(SystemPool),
						Requirements: []NodeSelectorRequirement{
							in(LabelCapacityType, "on-demand"),
							in(LabelArch, "amd64"),
							in(LabelOS, "linux"),
							in(LabelInstanceFamily, "m7i", "m6i"),
							in(LabelInstanceSize, "xlarge", "2xlarge"),
						},
						ExpireAfter:            "720h",
						TerminationGracePeriod: "10m",
					},
				},
				Disruption: &Disruption{
					ConsolidationPolicy: "WhenEmptyOrUnderutilized",
					ConsolidateAfter:    "30s",
					Budgets:             []Budget{{Nodes: "10%"}},
				},
				Limits: map[string]string{"cpu": "32", "memory": "128Gi"},
			},
		},
		{
			Metadata: ObjectMeta{Name: GPUPool},
			Spec: NodePoolSpec{
				Template: NodeClaimTemplate{
					Metadata: &TemplateMetadata{Labels: map[string]string{LabelPurpose: "gpu-inference", LabelGPUPresent: "true"}},
					Spec: NodeClaimTemplateSpec{
						NodeClassRef: ref(GPUPool),
						Requirements: []NodeSelectorRequirement{
							in(LabelCapacityType, "spot", "on-demand"),
							in(LabelArch, "amd64"),
							in(LabelOS, "linux"),
							in(LabelInstanceFamily, "g5", "g4dn", "g6"),
						},
						Taints:                 []Taint{{Key: ResourceGPU, Value: "present", Effect: "NoSchedule"}},
						ExpireAfter:            "720h",
						TerminationGracePeriod: "10m",
					},
				},
				Disruption: &Disruption{
					ConsolidationPolicy: "WhenEmpty",
					ConsolidateAfter:    "1m",
					Budgets:             []Budget{{Nodes: "1"}},
				},
				Limits: map[string]string{ResourceGPU: "8"},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }
