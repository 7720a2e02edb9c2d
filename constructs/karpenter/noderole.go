package karpenter

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/platform"
)

// NodeRoleProps configures NewNodeRole.
type NodeRoleProps struct {
	// Cluster is the cluster the nodes join. It may live in another stack:
	// only its name is referenced. Required.
	Cluster awseksv2.ICluster
}

// NodeRole is the IAM role of the nodes Karpenter launches, trusted by EC2,
// with platform.NodeRoleManagedPolicies, joined to the cluster by an
// access entry of type EC2_LINUX (EKS maps it to the system:nodes group).
type NodeRole struct {
	// Construct is this construct's node; it is the scope of the children.
	Construct constructs.Construct
	// Role is the node role. EC2NodeClass spec.role takes its name
	// (*Role.RoleName()); the controller policy's iam:PassRole is scoped to
	// its ARN.
	Role awsiam.Role
	// AccessEntry joins Role to the cluster (type EC2_LINUX).
	AccessEntry awseksv2.CfnAccessEntry
}

// NewNodeRole creates the node role and its access entry in scope's stack.
// The cluster's stack is not modified: the access entry is a plain
// AWS::EKS::AccessEntry that references the cluster by name.
func NewNodeRole(scope constructs.Construct, id string, props *NodeRoleProps) *NodeRole {
	if props == nil || props.Cluster == nil {
		panic(fmt.Sprintf("karpenter: NodeRole %q needs props.Cluster", id))
	}
	c := constructs.NewConstruct(scope, jsii.String(id))

	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		ManagedPolicies: managedPolicies(platform.NodeRoleManagedPolicies),
		Description:     jsii.String("Nodes launched by Karpenter"),
	})
	nag.Suppress(role, "The managed policies Karpenter's getting-started CloudFormation and the EKS User Guide prescribe for the node role (kubelet/EKS node API, the VPC CNI's ENI calls, ECR image pulls, SSM Session Manager); AWS maintains them as EKS needs new actions",
		nag.ManagedPolicyRule(platform.NodeRoleManagedPolicies...))
	entry := awseksv2.NewCfnAccessEntry(c, jsii.String("AccessEntry"), &awseksv2.CfnAccessEntryProps{
		ClusterName:  props.Cluster.ClusterName(),
		PrincipalArn: role.RoleArn(),
		Type:         jsii.String(string(awseksv2.AccessEntryType_EC2_LINUX)),
	})
	return &NodeRole{Construct: c, Role: role, AccessEntry: entry}
}

// managedPolicies returns the AWS managed policies of these names.
func managedPolicies(names []string) *[]awsiam.IManagedPolicy {
	var managed []awsiam.IManagedPolicy
	for _, name := range names {
		managed = append(managed, awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String(name)))
	}
	return &managed
}
