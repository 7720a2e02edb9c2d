package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/constructs/helmaddon"
	"github.com/hybrid-llm/platform/constructs/karpenter"
	"github.com/hybrid-llm/platform/constructs/karpenterpools"
	"github.com/hybrid-llm/platform/constructs/lbcontroller"
	"github.com/hybrid-llm/platform/constructs/spotrole"
	"github.com/hybrid-llm/platform/constructs/teardown"
	"github.com/hybrid-llm/platform/platform"
)

// NVIDIA device plugin chart coordinates.
const (
	nvidiaChart      = "nvidia-device-plugin"
	nvidiaRepository = "https://nvidia.github.io/k8s-device-plugin"
	nvidiaNamespace  = "kube-system"
)

// AddonsStackProps configures NewAddonsStack.
type AddonsStackProps struct {
	awscdk.StackProps
	// Cluster is the EKS cluster the add-ons are installed on.
	Cluster awseksv2.Cluster
	// Vpc is the cluster's VPC (the Load Balancer Controller's vpcId).
	Vpc awsec2.IVpc
	// ClusterName is the cluster's name as a plain string: Karpenter's IAM
	// condition keys contain it, and a CloudFormation token cannot be a key.
	ClusterName string
	// KubernetesVersion is the cluster's version; Karpenter node classes are
	// checked against it (no AL2 past 1.32).
	KubernetesVersion string
	// Identity is how the controllers get their IAM roles
	// (config.IdentityIRSA or config.IdentityPodIdentity).
	Identity string
	// LoadBalancerController configures the Load Balancer Controller.
	LoadBalancerController config.LoadBalancerController
	// Karpenter configures Karpenter and its pools (NodePools as config.Load
	// derived them).
	Karpenter config.Karpenter
	// Sweeper turns the teardown sweeper on or off.
	Sweeper config.Sweeper
}

// AddonsStack is HybridLlmAddons: the Load Balancer Controller, Karpenter
// with its node pools, and the NVIDIA device plugin.
type AddonsStack struct {
	// Stack is the CloudFormation stack.
	Stack awscdk.Stack
	// LoadBalancerController is the AWS Load Balancer Controller.
	LoadBalancerController *lbcontroller.Controller
	// Karpenter is Karpenter's AWS side and charts.
	Karpenter *karpenter.Karpenter
	// Pools are the EC2NodeClasses and NodePools.
	Pools *karpenterpools.Pools
	// NvidiaDevicePlugin makes GPU nodes advertise nvidia.com/gpu.
	NvidiaDevicePlugin *helmaddon.Addon
	// SpotRole ensures the account's EC2 Spot service-linked role.
	SpotRole *spotrole.Role
	// Sweeper removes what the controllers created, on stack delete. Nil
	// when sweeper.enabled is false.
	Sweeper *teardown.Sweeper
}

// NewAddonsStack builds HybridLlmAddons. Everything in it is created in this
// stack's scope (never cluster.AddHelmChart/AddManifest, which would place it
// in the cluster stack and create a cross-stack cycle).
func NewAddonsStack(scope constructs.Construct, id string, props *AddonsStackProps) *AddonsStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	s := &AddonsStack{Stack: stack}
	onSystemNodes := map[string]string{platform.LabelPurpose: platform.PurposeSystem}
	podIdentity := props.Identity == config.IdentityPodIdentity

	s.LoadBalancerController = lbcontroller.New(stack, "LoadBalancerController", &lbcontroller.Props{
		Cluster:      props.Cluster,
		PodIdentity:  podIdentity,
		ClusterName:  props.ClusterName,
		Vpc:          props.Vpc,
		ChartVersion: platform.LoadBalancerController.Chart,
		Replicas:     props.LoadBalancerController.Replicas,
		NodeSelector: onSystemNodes,
	})

	s.Karpenter = karpenter.New(stack, "Karpenter", &karpenter.Props{
		Cluster:      props.Cluster,
		PodIdentity:  podIdentity,
		ClusterName:  props.ClusterName,
		Version:      platform.Karpenter.Chart,
		Replicas:     props.Karpenter.Replicas,
		NodeSelector: onSystemNodes,
	})

	// The Load Balancer Controller's mutating webhook on Services fails
	// closed (serviceMutatorWebhookConfig.failurePolicy: Fail): a release
	// that creates a Service before the controller's pods are ready is
	// rejected ("no endpoints available for service
	// aws-load-balancer-webhook-service") and the stack rolls back. So every
	// release whose chart creates a Service goes after the controller's
	// release, which waits for its pods. Of the pinned charts only karpenter
	// (1.14.1 templates/service.yaml) creates one; karpenter-crd and
	// nvidia-device-plugin 0.20.0 do not.
	for _, addon := range []*helmaddon.Addon{s.Karpenter.Chart} {
		addon.Chart.Node().AddDependency(s.LoadBalancerController.Addon.Chart)
	}

	// Independent of sweeper.enabled: without the role Karpenter launches
	// on-demand where the pools ask for Spot (internal/spotrole).
	s.SpotRole = spotrole.New(stack, "SpotServiceLinkedRole", nil)

	s.Pools = karpenterpools.New(stack, "KarpenterPools", &karpenterpools.Props{
		Cluster:           props.Cluster,
		KubernetesVersion: props.KubernetesVersion,
		NodeClasses: karpenterpools.DefaultEC2NodeClasses(karpenterpools.NodeClassInput{
			ClusterName:            props.ClusterName,
			ClusterSecurityGroupID: *props.Cluster.ClusterSecurityGroupId(),
			NodeRoleName:           *s.Karpenter.NodeRoleName(),
			AMIAlias:               props.Karpenter.AMIAlias,
			Tags:                   platform.Tags(props.ClusterName),
		}),
		NodePools: karpenterpools.RenderNodePools(props.Karpenter.NodePools),
		// Created after, deleted before, the controller: NodePool and
		// EC2NodeClass finalizers need it to drain and terminate their nodes.
		// After the Spot service-linked role: a pool allowing spot must find
		// it on its first launch.
		DependsOn: append(s.Karpenter.NodePoolDependencies(), s.SpotRole.Resource),
	})

	// The chart's default affinity selects nodes labelled
	// nvidia.com/gpu.present=true, which both the GPU node group and the GPU
	// pool set. The toleration of the GPU taint is stated rather than left to
	// the chart's defaults: without it the plugin never runs where it is needed.
	s.NvidiaDevicePlugin = helmaddon.New(stack, "NvidiaDevicePlugin", &helmaddon.Props{
		Cluster:    props.Cluster,
		Chart:      nvidiaChart,
		Repository: nvidiaRepository,
		Version:    platform.NvidiaDevicePlugin.Chart,
		Release:    nvidiaChart,
		Namespace:  nvidiaNamespace,
		Values: map[string]any{
			"tolerations": []any{
				map[string]any{"key": platform.GPUTaint.Key, "operator": "Exists", "effect": platform.GPUTaint.Effect},
				map[string]any{"key": "CriticalAddonsOnly", "operator": "Exists"},
			},
		},
	})

	if props.Sweeper.Enabled {
		s.Sweeper = teardown.New(stack, "Sweeper", &teardown.Props{ClusterName: props.ClusterName})
		// CloudFormation deletes dependents first: every release goes before
		// the sweep (no controller is left to create resources while it runs),
		// and the Karpenter node role after it (the sweep removes that role
		// from Karpenter's instance profiles).
		for _, addon := range []*helmaddon.Addon{s.LoadBalancerController.Addon, s.Karpenter.CRDs, s.Karpenter.Chart, s.NvidiaDevicePlugin} {
			addon.Chart.Node().AddDependency(s.Sweeper.Resource)
		}
		s.Sweeper.Resource.Node().AddDependency(s.Karpenter.NodeIAMRole())
	}
	return s
}
