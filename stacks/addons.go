package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AddonsStackProps configures NewAddonsStack.
type AddonsStackProps struct {
	awscdk.StackProps
	// Cluster is the EKS cluster the add-ons are installed on.
	Cluster awseks.Cluster
}

// AddonsStack is HybridLlmAddons: the Load Balancer Controller and Karpenter.
type AddonsStack struct {
	// Stack is the CloudFormation stack.
	Stack awscdk.Stack
}

// NewAddonsStack builds HybridLlmAddons. Everything in it is created in this
// stack's scope (never cluster.AddHelmChart/AddManifest, which would place it
// in the cluster stack and create a cross-stack cycle).
func NewAddonsStack(scope constructs.Construct, id string, props *AddonsStackProps) *AddonsStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	return &AddonsStack{Stack: stack}
}
