package teardown

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/platform"
)

// VPCResourceType is the CloudFormation type of the VPC sweeper.
const VPCResourceType = platform.VPCSweeperType

// VPCProps configures a VPCSweeper.
type VPCProps struct {
	// ClusterName is the name of the EKS cluster that runs in Vpc. Required;
	// a literal (its tag keys are part of the IAM conditions).
	ClusterName string
	// Vpc is the cluster's VPC, created in the same stack. Required.
	Vpc awsec2.IVpc
	// LogRetention is how long the function's and the Provider's logs are
	// kept. Default: DefaultLogRetention (one month).
	LogRetention awslogs.RetentionDays
}

// VPCSweeper is the custom resource that, when the network stack is deleted,
// removes what keeps the VPC from being deleted after the cluster is gone:
// the cluster's available network interfaces (VPC CNI leftovers; Lambda's
// hyperplane interfaces are waited for) and its EKS cluster security group
// (internal/sweep VPCSweeper). It depends on every subnet of the VPC, so
// CloudFormation deletes it, and runs the sweep, before the subnets and the
// VPC. Like Sweeper it sweeps only while its own stack is being deleted.
type VPCSweeper struct {
	// Construct is the node under which the children live.
	Construct constructs.Construct
	// Function is the Go Lambda (onEvent and isComplete handler).
	Function awslambda.Function
	// Provider is the custom resource provider wrapping Function.
	Provider customresources.Provider
	// Resource is the custom resource.
	Resource awscdk.CustomResource
}

// NewVPCSweeper creates the VPC sweeper of props.ClusterName in scope's stack.
func NewVPCSweeper(scope constructs.Construct, id string, props *VPCProps) *VPCSweeper {
	if props == nil || props.ClusterName == "" || props.Vpc == nil {
		panic("teardown: VpcSweeper needs ClusterName and Vpc")
	}
	if err := platform.ValidateEKSClusterName(props.ClusterName); err != nil {
		panic(fmt.Sprintf("teardown: cluster name %q is not a valid EKS cluster name", props.ClusterName))
	}
	retention := LogRetention(props.LogRetention)
	c := constructs.NewConstruct(scope, jsii.String(id))
	v := &VPCSweeper{Construct: c}
	v.Function = NewFunction(c, "Function", &FunctionProps{
		Description: "Deletes what keeps the VPC from being deleted after the EKS cluster is gone (internal/sweep VPCSweeper)",
		Timeout:     awscdk.Duration_Minutes(jsii.Number(functionTimeoutMins)),
		LogGroup: awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
			Retention:     retention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}),
		Environment: sweepEnvironment(),
	})
	for _, st := range vpcPolicyStatements(c, props.ClusterName, props.Vpc) {
		v.Function.AddToRolePolicy(st)
	}
	v.Provider = newProvider(c, v.Function, retention)
	nag.Suppress(v.Function, "The VPC sweeper logs through AWSLambdaBasicExecutionRole (log writes only). DescribeNetworkInterfaces and DescribeSecurityGroups take no resource, so Resource *; DeleteNetworkInterface is limited to interfaces in this VPC (ec2:Vpc) and DeleteSecurityGroup to this VPC's group tagged aws:eks:cluster-name=<cluster> and kubernetes.io/cluster/<cluster>=owned, the EKS cluster security group",
		nag.Rule("AwsSolutions-IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
		nag.Rule("AwsSolutions-IAM5",
			"Resource::*",
			`/^Resource::arn:[^:]+:ec2:[^:]+:(<AWS::AccountId>|[0-9]{12}):(network-interface|security-group)\/\*$/`))
	suppressProvider(v.Provider)
	v.Resource = awscdk.NewCustomResource(c, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken: v.Provider.ServiceToken(),
		ResourceType: jsii.String(VPCResourceType),
		Properties:   &map[string]any{"ClusterName": props.ClusterName, "VpcId": props.Vpc.VpcId()},
	})
	// Deleted before every subnet (and with them the route tables, NAT
	// gateways and the VPC): the interfaces live in the subnets.
	for _, subnets := range [][]awsec2.ISubnet{*props.Vpc.PublicSubnets(), *props.Vpc.PrivateSubnets(), *props.Vpc.IsolatedSubnets()} {
		for _, s := range subnets {
			v.Resource.Node().AddDependency(s)
		}
	}
	return v
}

// suppressProvider accepts the findings on what aws-cdk-lib's provider
// framework creates around a handler of this package.
func suppressProvider(p customresources.Provider) {
	nag.Suppress(p, "The custom-resource provider framework (aws-cdk-lib) logs through AWSLambdaBasicExecutionRole and invokes the handler function by qualified ARN (<function ARN>:*); its waiter state machine only polls the handler, whose every call is logged to the handler's log group, and aws-cdk-lib offers no tracing for it",
		nag.Rule("AwsSolutions-IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
		nag.Rule("AwsSolutions-IAM5", `/^Resource::<[A-Za-z0-9]+\.Arn>:\*$/`),
		nag.Rule("AwsSolutions-SF1"), nag.Rule("AwsSolutions-SF2"))
}

// vpcPolicyStatements grants what internal/sweep's VPC pass calls: listing on
// "*", deleting network interfaces only in vpc, and deleting only the
// cluster security group of cluster in vpc.
func vpcPolicyStatements(scope constructs.Construct, cluster string, vpc awsec2.IVpc) []awsiam.PolicyStatement {
	stack := awscdk.Stack_Of(scope)
	arn := func(resource string) *string {
		return jsii.String(fmt.Sprintf("arn:%s:ec2:%s:%s:%s", *stack.Partition(), *stack.Region(), *stack.Account(), resource))
	}
	inVpc := arn("vpc/" + *vpc.VpcId())
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("List"),
			Actions:   jsii.Strings("ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups"),
			Resources: jsii.Strings("*"),
		}),
		describeOwnStack(stack),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			// Lambda's hyperplane interfaces carry no tag, so the VPC is the
			// scope; the function deletes only available interfaces that
			// carry the VPC CNI's tag of the cluster or use its cluster
			// security group.
			Sid:        jsii.String("DeleteNetworkInterfacesInThisVpc"),
			Actions:    jsii.Strings("ec2:DeleteNetworkInterface"),
			Resources:  &[]*string{arn("network-interface/*")},
			Conditions: &map[string]any{"StringEquals": map[string]any{"ec2:Vpc": inVpc}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DeleteClusterSecurityGroup"),
			Actions:   jsii.Strings("ec2:DeleteSecurityGroup"),
			Resources: &[]*string{arn("security-group/*")},
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"ec2:Vpc": inVpc,
				"aws:ResourceTag/" + platform.TagEKSClusterSecurityGroup: cluster,
				"aws:ResourceTag/" + platform.ClusterOwnedTag(cluster):   "owned",
			}},
		}),
	}
}
