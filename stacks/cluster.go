package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseks"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/awscdk-kubectl-go/kubectlv34/v2"
)

// ClusterStackProps configures NewClusterStack.
type ClusterStackProps struct {
	awscdk.StackProps
	// Vpc is the network the cluster runs in (nodes in its private subnets).
	Vpc awsec2.IVpc
	// ClusterName is the EKS cluster name.
	ClusterName string
	// KubernetesVersion is the control-plane version ("1.35").
	KubernetesVersion string
	// EndpointPublicCidrs may reach the public API endpoint.
	EndpointPublicCidrs []string
	// AdminPrincipalArn gets cluster-admin through an access entry. Empty: none.
	AdminPrincipalArn string
	// ControlPlaneLogRetentionDays is the retention of the control-plane logs.
	ControlPlaneLogRetentionDays int
}

// ClusterStack is HybridLlmCluster: the EKS control plane and what hangs off it.
type ClusterStack struct {
	// Stack is the CloudFormation stack.
	Stack awscdk.Stack
	// Cluster is the EKS cluster, with its kubectl provider and OIDC provider.
	Cluster awseks.Cluster
	// NodeRole is the IAM role of the managed node groups.
	NodeRole awsiam.Role
}

// daemonSetAddons are the EKS managed add-ons installed with the control
// plane. All are DaemonSets, healthy with zero nodes. coredns is a Deployment
// that stays DEGRADED (and CloudFormation times out) until nodes exist, so it
// is installed by the node group stack after the system node group.
var daemonSetAddons = []struct{ id, name string }{
	{"VpcCni", "vpc-cni"},
	{"KubeProxy", "kube-proxy"},
	{"PodIdentityAgent", "eks-pod-identity-agent"},
}

// NewClusterStack builds HybridLlmCluster: the EKS control plane (API
// authentication mode: access entries, no aws-auth ConfigMap), secrets
// envelope-encrypted with a KMS key, all control-plane log types, a
// public+private endpoint, the kubectl v1.34 layer, the IAM OIDC provider for
// IRSA, an admin access entry, the node role, and the DaemonSet add-ons.
func NewClusterStack(scope constructs.Construct, id string, props *ClusterStackProps) *ClusterStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)

	// Deleted with the stack (CDK's default keeps it, billing after the
	// cluster is gone); KMS waits 30 days before it really deletes a key,
	// during which the deletion can be cancelled.
	secretsKey := awskms.NewKey(stack, jsii.String("SecretsKey"), &awskms.KeyProps{
		Description:       jsii.String("Envelope encryption of Kubernetes secrets for EKS cluster " + props.ClusterName),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})

	// EKS writes control-plane logs to this group, creating it (with no
	// expiry, outside CloudFormation) if it does not exist: created here first,
	// it gets a retention and is deleted with the stack.
	controlPlaneLogs := awslogs.NewLogGroup(stack, jsii.String("ControlPlaneLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/eks/" + props.ClusterName + "/cluster"),
		Retention:     retention(props.ControlPlaneLogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})

	cluster := awseks.NewCluster(stack, jsii.String("Cluster"), &awseks.ClusterProps{
		ClusterName:          jsii.String(props.ClusterName),
		Version:              awseks.KubernetesVersion_Of(jsii.String(props.KubernetesVersion)),
		KubectlLayer:         kubectlv34.NewKubectlV34Layer(stack, jsii.String("KubectlLayer")),
		Vpc:                  props.Vpc,
		VpcSubnets:           &[]*awsec2.SubnetSelection{{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}},
		DefaultCapacity:      jsii.Number(0),
		AuthenticationMode:   awseks.AuthenticationMode_API,
		SecretsEncryptionKey: secretsKey,
		EndpointAccess:       awseks.EndpointAccess_PUBLIC_AND_PRIVATE().OnlyFrom(*jsii.Strings(props.EndpointPublicCidrs...)...),
		ClusterLogging: &[]awseks.ClusterLoggingTypes{
			awseks.ClusterLoggingTypes_API,
			awseks.ClusterLoggingTypes_AUDIT,
			awseks.ClusterLoggingTypes_AUTHENTICATOR,
			awseks.ClusterLoggingTypes_CONTROLLER_MANAGER,
			awseks.ClusterLoggingTypes_SCHEDULER,
		},
	})

	cluster.Node().DefaultChild().Node().AddDependency(controlPlaneLogs)

	// The aws-eks config-command output needs a masters role, which API
	// authentication mode does not use; print the plain command instead.
	awscdk.NewCfnOutput(stack, jsii.String("UpdateKubeconfigCommand"), &awscdk.CfnOutputProps{
		Description: jsii.String("Configures kubectl for this cluster (needs an access entry: see adminPrincipalArn)"),
		Value: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("aws eks update-kubeconfig --name "), cluster.ClusterName(),
			jsii.String(" --region "), stack.Region(),
		}),
	})

	// Create the IRSA OIDC provider here, with the cluster: it is created
	// lazily on first use, and a first use from the add-ons stack would add it
	// to this stack only then. IAM accepts one provider per issuer URL.
	cluster.OpenIdConnectProvider()

	if props.AdminPrincipalArn != "" {
		cluster.GrantAccess(jsii.String("AdminAccess"), jsii.String(props.AdminPrincipalArn), &[]awseks.IAccessPolicy{
			awseks.AccessPolicy_FromAccessPolicyName(jsii.String("AmazonEKSClusterAdminPolicy"), &awseks.AccessPolicyNameOptions{
				AccessScopeType: awseks.AccessScopeType_CLUSTER,
			}),
		})
	} else {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("hybridllm:noAdminPrincipal"),
			jsii.String("hybridLlm.adminPrincipalArn is empty: no IAM principal gets cluster-admin, so kubectl works only through the CDK kubectl role. Set it to your role's ARN."))
	}

	nodeRole := awsiam.NewRole(stack, jsii.String("NodeRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonEKSWorkerNodePolicy")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonEKS_CNI_Policy")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonEC2ContainerRegistryPullOnly")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore")),
		},
	})

	for _, a := range daemonSetAddons {
		newManagedAddon(stack, a.id, cluster, a.name)
	}

	return &ClusterStack{Stack: stack, Cluster: cluster, NodeRole: nodeRole}
}

// newManagedAddon installs an EKS managed add-on at the default version EKS
// picks for the cluster's Kubernetes version. The L1 resource is used because
// the L2 Addon cannot set ResolveConflicts: EKS installs self-managed
// vpc-cni, kube-proxy and coredns with every cluster, and adopting them needs
// OVERWRITE.
func newManagedAddon(scope constructs.Construct, id string, cluster awseks.ICluster, name string) awseks.CfnAddon {
	return awseks.NewCfnAddon(scope, jsii.String(id), &awseks.CfnAddonProps{
		AddonName:        jsii.String(name),
		ClusterName:      cluster.ClusterName(),
		ResolveConflicts: jsii.String("OVERWRITE"),
	})
}
