package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/platform"
)

// NodeGroupStackProps configures NewNodeGroupStack.
type NodeGroupStackProps struct {
	awscdk.StackProps
	// Cluster is the EKS cluster the groups join.
	Cluster awseksv2.ICluster
	// NodeRole is the IAM role of both groups' nodes.
	NodeRole awsiam.IRole
	// KubernetesVersion is the cluster's version ("1.36"); both groups run
	// their kubelet at it.
	KubernetesVersion string
	// System is the CPU system group's configuration.
	System config.NodeGroup
	// GPU is the GPU group's configuration.
	GPU config.NodeGroup
}

// NodeGroupStack is HybridLlmNodeGroups: the managed node groups.
type NodeGroupStack struct {
	// Stack is the CloudFormation stack.
	Stack awscdk.Stack
	// System runs controllers (Karpenter, the Load Balancer Controller, coredns).
	System awseksv2.Nodegroup
	// GPU runs model servers; tainted nvidia.com/gpu=present:NoSchedule.
	GPU awseksv2.Nodegroup
}

// NewNodeGroupStack builds HybridLlmNodeGroups: a CPU "system" group on
// AL2023 x86_64 and a GPU group on the AL2023 NVIDIA AMI, tainted so only
// pods tolerating nvidia.com/gpu land there; then the coredns add-on, which
// needs nodes to become healthy.
func NewNodeGroupStack(scope constructs.Construct, id string, props *NodeGroupStackProps) *NodeGroupStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)

	system := awseksv2.NewNodegroup(stack, jsii.String("System"), &awseksv2.NodegroupProps{
		Cluster:       props.Cluster,
		NodeRole:      props.NodeRole,
		AmiType:       awseksv2.NodegroupAmiType_AL2023_X86_64_STANDARD,
		CapacityType:  awseksv2.CapacityType_ON_DEMAND,
		InstanceTypes: instanceTypes(props.System.InstanceTypes),
		MinSize:       jsii.Number(props.System.MinSize),
		DesiredSize:   jsii.Number(props.System.DesiredSize),
		MaxSize:       jsii.Number(props.System.MaxSize),
		DiskSize:      jsii.Number(props.System.DiskSizeGiB),
		Subnets:       &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		Labels:        &map[string]*string{platform.LabelPurpose: jsii.String(platform.PurposeSystem)},
	})

	gpu := awseksv2.NewNodegroup(stack, jsii.String("Gpu"), &awseksv2.NodegroupProps{
		Cluster:       props.Cluster,
		NodeRole:      props.NodeRole,
		AmiType:       awseksv2.NodegroupAmiType_AL2023_X86_64_NVIDIA,
		CapacityType:  awseksv2.CapacityType_ON_DEMAND,
		InstanceTypes: instanceTypes(props.GPU.InstanceTypes),
		MinSize:       jsii.Number(props.GPU.MinSize),
		DesiredSize:   jsii.Number(props.GPU.DesiredSize),
		MaxSize:       jsii.Number(props.GPU.MaxSize),
		DiskSize:      jsii.Number(props.GPU.DiskSizeGiB),
		Subnets:       &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		Labels:        &map[string]*string{platform.LabelPurpose: jsii.String(platform.PurposeGPU), platform.LabelGPUPresent: jsii.String("true")},
		Taints: &[]*awseksv2.TaintSpec{{
			Key:    jsii.String(platform.GPUTaint.Key),
			Value:  jsii.String(platform.GPUTaint.Value),
			Effect: awseksv2.TaintEffect_NO_SCHEDULE, // platform.GPUTaint.Effect
		}},
	})

	// EKS upgrades only the control plane when the cluster's Version changes;
	// a managed node group keeps its Kubernetes version until its own Version
	// changes, and EKS refuses the next control-plane upgrade while any group
	// lags behind. aws-eks-v2's Nodegroup has no version prop, so the L1
	// property is set: a kubernetesVersion bump then rolls both groups in this
	// stack, after HybridLlmCluster has upgraded the control plane.
	for _, ng := range []awseksv2.Nodegroup{system, gpu} {
		ng.Node().DefaultChild().(awseksv2.CfnNodegroup).SetVersion(jsii.String(props.KubernetesVersion))
	}

	coredns := newManagedAddon(stack, "CoreDns", props.Cluster, "coredns")
	coredns.Node().AddDependency(system)

	return &NodeGroupStack{Stack: stack, System: system, GPU: gpu}
}

// instanceTypes converts validated instance type names.
func instanceTypes(names []string) *[]awsec2.InstanceType {
	out := make([]awsec2.InstanceType, 0, len(names))
	for _, n := range names {
		out = append(out, awsec2.NewInstanceType(jsii.String(n)))
	}
	if len(out) == 0 {
		panic(fmt.Sprintf("stacks: empty instance type list %v (config.Validate should have rejected it)", names))
	}
	return &out
}
