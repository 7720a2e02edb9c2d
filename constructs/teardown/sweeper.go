// Package teardown provides the teardown custom resource: on stack delete it
// removes what the cluster's controllers created outside CloudFormation
// (Karpenter instances, launch templates and instance profiles; the Load
// Balancer Controller's load balancers, target groups and security groups),
// found by their tags, so that `cdk destroy` leaves nothing behind.
//
// The function is the Go Lambda in lambda/customresources (logic in internal/sweep),
// a plain awslambda.Function (NewFunction) whose code internal/gobundle builds
// at synth with the local Go toolchain for provided.al2023 on arm64. It is
// both the onEvent and the isComplete handler
// of a CDK Provider: onEvent returns at once, isComplete sweeps for up to
// two minutes per call and is called every 30 seconds until nothing is left,
// the sweep finds something a human must fix, or 40 minutes have passed.
//
// Make the Helm charts (and everything else in the cluster that creates AWS
// resources) depend on Sweeper.Resource: CloudFormation then deletes them
// first and runs the sweep last.
//
// The function sweeps only when the stack holding the sweeper is itself
// being deleted (or its failed creation rolled back): it reads the stack's
// status with cloudformation:DescribeStacks, allowed on this stack's ARN
// only. Removing or replacing the sweeper in a stack update completes
// without sweeping.
package teardown

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/platform"
)

// ResourceType is the CloudFormation type of the custom resource.
const ResourceType = platform.ClusterSweeperType

// Timing of a sweep. Budget bounds a whole Delete (the function then fails
// it, naming what is left); it stays well inside CloudFormation's one-hour
// limit for a custom resource, and TotalTimeout/QueryInterval gives the
// Provider's waiter more attempts than Budget can use.
const (
	budgetSeconds       = 40 * 60
	perCallSeconds      = 120
	functionTimeoutMins = 5
	queryIntervalSecs   = 30
	totalTimeoutMins    = 50
)

// EntryDir is the Lambda's main package, relative to the module root: the
// handler of every custom resource of this repository (NewFunction).
const EntryDir = "lambda/customresources"

// Props configures a Sweeper.
type Props struct {
	// ClusterName is the name of the EKS cluster whose leftovers are swept.
	// Required. May be a token (e.g. *cluster.ClusterName()); a literal must
	// be a valid EKS cluster name.
	ClusterName string
	// LogRetention is how long the function's and the Provider's logs are
	// kept. Default: DefaultLogRetention (one month). The log groups are
	// deleted with the stack (after the sweep succeeded; a failed sweep stops
	// the stack deletion before them).
	LogRetention awslogs.RetentionDays
}

// Sweeper is the teardown custom resource and its parts.
type Sweeper struct {
	// Construct is the node under which the children live.
	Construct constructs.Construct
	// Function is the Go Lambda (onEvent and isComplete handler).
	Function awslambda.Function
	// Provider is the custom resource provider wrapping Function.
	Provider customresources.Provider
	// Resource is the custom resource; make what must be deleted before the
	// sweep (Helm charts, manifests) depend on it.
	Resource awscdk.CustomResource
}

// New creates the sweeper of props.ClusterName in scope's stack.
func New(scope constructs.Construct, id string, props *Props) *Sweeper {
	if props == nil || props.ClusterName == "" {
		panic("teardown: ClusterName is required")
	}
	cluster := jsii.String(props.ClusterName)
	if !isToken(cluster) {
		if err := platform.ValidateEKSClusterName(*cluster); err != nil {
			panic(fmt.Sprintf("teardown: cluster name %q is not a valid EKS cluster name", *cluster))
		}
	}
	retention := LogRetention(props.LogRetention)

	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Sweeper{Construct: c}

	logGroup := awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	s.Function = NewFunction(c, "Function", &FunctionProps{
		Description: "Deletes what the cluster's controllers left behind (internal/sweep)",
		Timeout:     awscdk.Duration_Minutes(jsii.Number(functionTimeoutMins)),
		LogGroup:    logGroup,
		Environment: sweepEnvironment(),
	})
	for _, st := range policyStatements(c, cluster) {
		s.Function.AddToRolePolicy(st)
	}

	s.Provider = newProvider(c, s.Function, retention)
	nag.Suppress(s.Function, "The sweeper logs through AWSLambdaBasicExecutionRole (log writes only). It must find what controllers created before it can filter by tag, so its List/Describe calls take Resource *; every delete is limited to this cluster's resources (policyStatements): aws:ResourceTag conditions on instances, launch templates, load balancers, target groups and security groups, the path karpenter/<region>/<cluster>/ for instance profiles",
		nag.Rule("AwsSolutions-IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
		nag.Rule("AwsSolutions-IAM5",
			"Resource::*",
			`/^Resource::arn:[^:]+:ec2:[^:]+:(<AWS::AccountId>|[0-9]{12}):(instance|launch-template|security-group)\/\*$/`,
			`/^Resource::arn:[^:]+:elasticloadbalancing:[^:]+:(<AWS::AccountId>|[0-9]{12}):(loadbalancer\/\*|targetgroup\/\*\/\*)$/`,
			`/^Resource::arn:[^:]+:iam::(<AWS::AccountId>|[0-9]{12}):instance-profile\/karpenter\/.+\/\*$/`))
	suppressProvider(s.Provider)
	s.Resource = awscdk.NewCustomResource(c, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken: s.Provider.ServiceToken(),
		ResourceType: jsii.String(ResourceType),
		Properties:   &map[string]any{"ClusterName": cluster},
	})
	return s
}

func isToken(s *string) bool {
	return *awscdk.Token_IsUnresolved(s)
}

// policyStatements grants what internal/sweep calls: listing on "*" (these
// APIs take no resource, or are filtered by tag only after listing), and
// every delete only on resources that carry this cluster's marks.
func policyStatements(scope constructs.Construct, cluster *string) []awsiam.PolicyStatement {
	stack := awscdk.Stack_Of(scope)
	arn := func(service, resource string) *string {
		return jsii.String(fmt.Sprintf("arn:%s:%s:%s:%s:%s", *stack.Partition(), service, *stack.Region(), *stack.Account(), resource))
	}
	// The key of Karpenter's ownership tag contains the cluster name; a
	// token cannot be part of a map key in Go, so the condition is built in
	// CloudFormation (as aws-cdk's eks ServiceAccount does) when it is one.
	clusterTag := "aws:ResourceTag/" + platform.ClusterOwnedTag(*cluster)
	var ownedByCluster any = map[string]any{clusterTag: "owned"}
	var taggedForCluster any = map[string]any{clusterTag: "false"}
	if isToken(cluster) {
		ownedByCluster = awscdk.NewCfnJson(scope, jsii.String("InstanceCondition"), &awscdk.CfnJsonProps{
			Value: ownedByCluster,
		})
		taggedForCluster = awscdk.NewCfnJson(scope, jsii.String("SecurityGroupRuleCondition"), &awscdk.CfnJsonProps{
			Value: taggedForCluster,
		})
	}
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("List"),
			Actions: jsii.Strings(
				"ec2:DescribeInstances",
				"ec2:DescribeLaunchTemplates",
				"ec2:DescribeSecurityGroups",
				"ec2:DescribeNetworkInterfaces",
				"ec2:DescribeSecurityGroupRules",
				"elasticloadbalancing:DescribeLoadBalancers",
				"elasticloadbalancing:DescribeTargetGroups",
				"elasticloadbalancing:DescribeTags",
				"iam:ListInstanceProfiles",
			),
			Resources: jsii.Strings("*"),
		}),
		describeOwnStack(stack),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("TerminateKarpenterInstances"),
			Actions:   jsii.Strings("ec2:TerminateInstances"),
			Resources: &[]*string{arn("ec2", "instance/*")},
			Conditions: &map[string]any{
				"StringEquals": ownedByCluster,
				"Null":         map[string]any{"aws:ResourceTag/" + platform.TagNodePool: "false"},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DeleteKarpenterLaunchTemplates"),
			Actions:   jsii.Strings("ec2:DeleteLaunchTemplate"),
			Resources: &[]*string{arn("ec2", "launch-template/*")},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:ResourceTag/" + platform.TagEKSClusterName: cluster},
				"Null":         map[string]any{"aws:ResourceTag/" + platform.TagNodeClass: "false"},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DeleteLegacyKarpenterLaunchTemplates"),
			Actions:   jsii.Strings("ec2:DeleteLaunchTemplate"),
			Resources: &[]*string{arn("ec2", "launch-template/*")},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:ResourceTag/" + platform.TagLegacyLaunchTemplateCluster: cluster},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DeleteKarpenterInstanceProfiles"),
			Actions: jsii.Strings(
				"iam:RemoveRoleFromInstanceProfile",
				"iam:DeleteInstanceProfile",
			),
			// Karpenter v1.14 creates them under /karpenter/<region>/<cluster>/<EC2NodeClass UID>/.
			Resources: &[]*string{jsii.String(fmt.Sprintf("arn:%s:iam::%s:instance-profile/karpenter/%s/%s/*",
				*stack.Partition(), *stack.Account(), *stack.Region(), *cluster))},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DeleteLoadBalancerControllerResources"),
			Actions: jsii.Strings(
				"elasticloadbalancing:DeleteLoadBalancer",
				"elasticloadbalancing:DeleteTargetGroup",
			),
			Resources: &[]*string{
				arn("elasticloadbalancing", "loadbalancer/*"),
				arn("elasticloadbalancing", "targetgroup/*/*"),
			},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:ResourceTag/" + platform.TagELBCluster: cluster},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			// The rules the Load Balancer Controller added to the cluster's
			// node security group for its backend security group.
			Sid:        jsii.String("RevokeClusterSecurityGroupRules"),
			Actions:    jsii.Strings("ec2:RevokeSecurityGroupIngress"),
			Resources:  &[]*string{arn("ec2", "security-group/*")},
			Conditions: &map[string]any{"Null": taggedForCluster},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DeleteLoadBalancerControllerSecurityGroups"),
			Actions:   jsii.Strings("ec2:DeleteSecurityGroup"),
			Resources: &[]*string{arn("ec2", "security-group/*")},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:ResourceTag/" + platform.TagELBCluster: cluster},
			},
		}),
	}
}

// sweepEnvironment is the function's environment: the sweep's time budgets.
func sweepEnvironment() map[string]*string {
	return map[string]*string{
		"SWEEP_BUDGET_SECONDS":   jsii.String(fmt.Sprint(budgetSeconds)),
		"SWEEP_PER_CALL_SECONDS": jsii.String(fmt.Sprint(perCallSeconds)),
	}
}

// newProvider creates the custom resource provider "Provider" under c that
// runs fn as onEvent and isComplete handler, polling every
// queryIntervalSecs for at most totalTimeoutMins, logging to a
// "ProviderLogGroup" kept for retention and deleted with the stack.
func newProvider(c constructs.Construct, fn awslambda.IFunction, retention awslogs.RetentionDays) customresources.Provider {
	return customresources.NewProvider(c, jsii.String("Provider"), &customresources.ProviderProps{
		OnEventHandler:    fn,
		IsCompleteHandler: fn,
		QueryInterval:     awscdk.Duration_Seconds(jsii.Number(queryIntervalSecs)),
		TotalTimeout:      awscdk.Duration_Minutes(jsii.Number(totalTimeoutMins)),
		LogGroup: awslogs.NewLogGroup(c, jsii.String("ProviderLogGroup"), &awslogs.LogGroupProps{
			Retention:     retention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}),
	})
}

// describeOwnStack lets the function read its own stack: it sweeps only while
// that stack is being deleted (lambda/customresources/stackguard.go). DescribeStacks
// takes the stack resource type; AWS::StackId is this stack's full ARN, so a
// later stack of the same name is not covered either.
func describeOwnStack(stack awscdk.Stack) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DescribeOwnStack"),
		Actions:   jsii.Strings("cloudformation:DescribeStacks"),
		Resources: &[]*string{stack.StackId()},
	})
}
