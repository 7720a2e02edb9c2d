package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseks"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/kubectllayer"
	"github.com/hybrid-llm/platform/internal/nag"
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
		KubectlLayer:         kubectllayer.New(stack, "KubectlLayer"),
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
	suppressClusterFindings(stack, cluster, props.ClusterName)

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
		}, nil)
	} else {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("hybridllm:noAdminPrincipal"),
			jsii.String("hybridLlm.adminPrincipalArn is empty: no IAM principal gets cluster-admin, so kubectl works only through the CDK kubectl role. Set it to your role's ARN."), nil)
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

	nag.Suppress(nodeRole, "The managed policies the EKS User Guide prescribes for the node IAM role (kubelet/EKS node API, the VPC CNI's ENI and IP calls, ECR image pulls, SSM Session Manager instead of SSH); AWS maintains them as EKS needs new actions",
		nag.Rule("AwsSolutions-IAM4",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSWorkerNodePolicy",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKS_CNI_Policy",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"))

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

// suppressClusterFindings records why the cdk-nag findings on the cluster and
// on what aws-eks creates for it (its roles and its two singleton nested
// stacks: the cluster-resource provider and the kubectl provider) are
// accepted. Everything here except EKS1 is aws-cdk-lib 2.223 internals this
// app cannot configure; the golden files show the resulting metadata.
func suppressClusterFindings(stack awscdk.Stack, cluster awseks.Cluster, clusterName string) {
	nag.SuppressPath(stack, "Cluster/Resource/Resource/Default", "The public endpoint lets kubectl and cdk deploy run from outside the VPC; it only accepts hybridLlm.endpointPublicCidrs (narrow it for production), every request still needs IAM authentication and an EKS access entry, and nodes use the private endpoint",
		nag.Rule("AwsSolutions-EKS1"))
	nag.Suppress(cluster.Role(), "AmazonEKSClusterPolicy is the managed policy the EKS User Guide prescribes for the cluster service role; AWS maintains it as EKS needs new actions",
		nag.Rule("AwsSolutions-IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy"))
	nag.Suppress(cluster.KubectlLambdaRole(), "Role of aws-eks's kubectl handler Lambda as aws-cdk-lib builds it: CloudWatch logging, ENIs for the VPC-attached function, and ECR pulls (private, and public where the partition has it) for Helm OCI charts",
		nag.Rule("AwsSolutions-IAM4",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
			`/^Policy::\{"Fn::If":\["ClusterHasEcrPublic[0-9A-F]*".*AmazonElasticContainerRegistryPublicReadOnly/`))
	nag.Suppress(cluster.AdminRole(), "aws-eks's cluster-creation role: EC2 Describe* and iam:GetRole/ListAttachedRolePolicies/CreateServiceLinkedRole support no resource scope (Resource *); the EKS actions are scoped to this cluster's name and its sub-resources (updates, Fargate profiles)",
		nag.Rule("AwsSolutions-IAM5",
			"Resource::*",
			fmt.Sprintf(`/^Resource::arn:[^:]+:eks:[^:]+:(<AWS::AccountId>|[0-9]{12}):(cluster|fargateprofile)\/%s\/\*$/`, clusterName)))
	nag.SkipCheckov(cluster.AdminRole(), "aws-eks's cluster-creation role needs iam:CreateServiceLinkedRole and iam:GetRole on Resource * to create the EKS service-linked role before the cluster exists; the only other IAM action is PassRole on the cluster role",
		"CKV_AWS_109")

	for _, provider := range []string{"@aws-cdk--aws-eks.ClusterResourceProvider", "@aws-cdk--aws-eks.KubectlProvider"} {
		nag.SuppressPath(stack, provider, "aws-eks's custom-resource provider Lambdas (nested stack owned by aws-cdk-lib) log to CloudWatch and, when VPC-attached, manage their ENIs through the managed policies aws-cdk-lib attaches; both grant nothing beyond that",
			nag.Rule("AwsSolutions-IAM4",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"))
		nag.SuppressPath(stack, provider, "The custom-resource provider framework invokes its own handler functions by qualified ARN (<function ARN>:* covers their versions); the resource is one function of the same nested stack, not a wildcard over functions",
			nag.Rule("AwsSolutions-IAM5", `/^Resource::<[A-Za-z0-9]+\.Arn>:\*$/`))
	}
	nag.SuppressPath(stack, "@aws-cdk--aws-eks.ClusterResourceProvider/Provider/waiter-state-machine", "The provider framework's waiter state machine only polls isComplete while the cluster is created or updated; aws-cdk-lib exposes no logging or tracing settings for it, its executions are kept by Step Functions and its Lambdas log to CloudWatch",
		nag.Rule("AwsSolutions-SF1"), nag.Rule("AwsSolutions-SF2"))
	nag.SuppressPath(stack, "@aws-cdk--aws-eks.KubectlProvider/Handler", "aws-cdk-lib 2.223 pins its kubectl handler to python3.13 and ships it with the AWS CLI v1 layer built for that runtime; a different runtime is untested upstream and would risk every kubectl/Helm operation. It moves with aws-cdk-lib upgrades",
		nag.Rule("AwsSolutions-L1"))
}
