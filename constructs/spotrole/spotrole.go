// Package spotrole provides the custom resource that gives an account the
// EC2 Spot service-linked role (AWSServiceRoleForEC2Spot), so that Karpenter
// can launch Spot instances in a fresh account (see internal/spotrole for
// why Karpenter cannot, and what it does instead).
//
// A plain AWS::IAM::ServiceLinkedRole fails when the role exists (it does in
// every account that ever launched Spot) and deletes it with the stack,
// although it is account-wide. So this is a custom resource backed by the Go
// Lambda of lambda/customresources: Create and Update call
// iam:CreateServiceLinkedRole and take "the role exists" as success, Delete
// does nothing. The resource also has the RETAIN removal policy: on stack
// deletion CloudFormation does not even send the Delete.
//
// The function may only create that one role (iam:CreateServiceLinkedRole on
// its ARN, with iam:AWSServiceName = spot.amazonaws.com).
package spotrole

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/teardown"
	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/platform"
)

// ResourceType is the CloudFormation type of the custom resource.
const ResourceType = platform.SpotRoleType

// Props configures a Role.
type Props struct {
	// LogRetention is how long the function's and the Provider's logs are
	// kept. Default: teardown.DefaultLogRetention (one month).
	LogRetention awslogs.RetentionDays
}

// Role is the custom resource that ensures the EC2 Spot service-linked role.
type Role struct {
	// Construct is the node under which the children live.
	Construct constructs.Construct
	// Function is the Go Lambda (onEvent handler).
	Function awslambda.Function
	// Provider is the custom resource provider wrapping Function.
	Provider customresources.Provider
	// Resource is the custom resource; make what launches Spot instances
	// (the Karpenter NodePools) depend on it.
	Resource awscdk.CustomResource
}

// New creates the custom resource in scope's stack. props may be nil.
func New(scope constructs.Construct, id string, props *Props) *Role {
	if props == nil {
		props = &Props{}
	}
	retention := teardown.LogRetention(props.LogRetention)
	c := constructs.NewConstruct(scope, jsii.String(id))
	r := &Role{Construct: c}
	r.Function = teardown.NewFunction(c, "Function", &teardown.FunctionProps{
		Description: "Creates the EC2 Spot service-linked role unless it exists; never deletes it (internal/spotrole)",
		Timeout:     awscdk.Duration_Minutes(jsii.Number(2)),
		LogGroup: awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
			Retention:     retention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}),
	})
	stack := awscdk.Stack_Of(c)
	r.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("CreateSpotServiceLinkedRole"),
		Actions: jsii.Strings("iam:CreateServiceLinkedRole"),
		Resources: &[]*string{jsii.String(fmt.Sprintf("arn:%s:iam::%s:role%s%s",
			*stack.Partition(), *stack.Account(), platform.SpotRolePath, platform.SpotRoleName))},
		Conditions: &map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": platform.SpotServiceName}},
	}))
	r.Provider = customresources.NewProvider(c, jsii.String("Provider"), &customresources.ProviderProps{
		OnEventHandler: r.Function,
		LogGroup: awslogs.NewLogGroup(c, jsii.String("ProviderLogGroup"), &awslogs.LogGroupProps{
			Retention:     retention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}),
	})
	nag.Suppress(r.Function, "The function logs through AWSLambdaBasicExecutionRole (log writes only); its only other permission is creating the EC2 Spot service-linked role",
		nag.Rule("AwsSolutions-IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"))
	nag.Suppress(r.Provider, "The custom-resource provider framework (aws-cdk-lib) logs through AWSLambdaBasicExecutionRole and invokes the handler function by qualified ARN (<function ARN>:*)",
		nag.Rule("AwsSolutions-IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
		nag.Rule("AwsSolutions-IAM5", `/^Resource::<[A-Za-z0-9]+\.Arn>:\*$/`))
	r.Resource = awscdk.NewCustomResource(c, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken:  r.Provider.ServiceToken(),
		ResourceType:  jsii.String(ResourceType),
		Properties:    &map[string]any{"AWSServiceName": platform.SpotServiceName},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	return r
}
