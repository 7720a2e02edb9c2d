package stacks

import (
	"net/netip"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/constructs/teardown"
	"github.com/hybrid-llm/platform/platform"
)

// NetworkStackProps configures NewNetworkStack.
type NetworkStackProps struct {
	awscdk.StackProps
	// ClusterName is used for the karpenter.sh/discovery subnet tag.
	ClusterName string
	// Network is the VPC configuration.
	Network config.Network
	// Sweeper turns the VPC sweeper on or off.
	Sweeper config.Sweeper
}

// NetworkStack is HybridLlmNetwork: the VPC the cluster runs in.
type NetworkStack struct {
	// Stack is the CloudFormation stack.
	Stack awscdk.Stack
	// Vpc has public subnets (internet-facing load balancers) and private
	// subnets (nodes, internal load balancers, Karpenter discovery).
	Vpc awsec2.Vpc
	// VPCSweeper removes what keeps the VPC from being deleted after the
	// cluster is gone, on stack delete. Nil when sweeper.enabled is false.
	VPCSweeper *teardown.VPCSweeper
}

// NewNetworkStack builds HybridLlmNetwork: a VPC over the configured AZs with
// NAT gateways, flow logs to CloudWatch and an S3 gateway endpoint (image
// layers pulled from ECR are served by S3; the endpoint keeps them off the
// NAT bill).
func NewNetworkStack(scope constructs.Construct, id string, props *NetworkStackProps) *NetworkStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	n := props.Network

	// Private subnets are large because the VPC CNI gives every pod a VPC IP:
	// /19s of a /16 (six AZs fit), public subnets /24s.
	vpcBits := prefixBits(n.VpcCidr)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(n.VpcCidr)),
		AvailabilityZones: jsii.Strings(n.AvailabilityZones...),
		NatGateways:       jsii.Number(n.NatGateways),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(vpcBits + 8)},
			{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(vpcBits + 3)},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})

	for _, s := range *vpc.PublicSubnets() {
		awscdk.Tags_Of(s).Add(jsii.String(platform.TagPublicELB), jsii.String("1"), nil)
	}
	for _, s := range *vpc.PrivateSubnets() {
		awscdk.Tags_Of(s).Add(jsii.String(platform.TagInternalELB), jsii.String("1"), nil)
		awscdk.Tags_Of(s).Add(jsii.String(platform.TagKarpenterDiscovery), jsii.String(props.ClusterName), nil)
	}

	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     retention(n.FlowLogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
	})

	ns := &NetworkStack{Stack: stack, Vpc: vpc}
	if props.Sweeper.Enabled {
		// Network interfaces that outlive the cluster (the kubectl handler's
		// hyperplane interfaces, VPC CNI leftovers) keep EKS from deleting
		// the cluster security group, and both keep the subnets and the VPC.
		// The sweeper runs when this stack is deleted, after the cluster
		// stack is gone and before the subnets go.
		ns.VPCSweeper = teardown.NewVPCSweeper(stack, "VpcSweeper", &teardown.VPCProps{ClusterName: props.ClusterName, Vpc: vpc})
	}
	return ns
}

// prefixBits returns the prefix length of a CIDR that config.Validate has
// already checked.
func prefixBits(cidr string) int {
	return netip.MustParsePrefix(cidr).Bits()
}
