package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/kubectllayer"
	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/platform"
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
	Cluster awseksv2.Cluster
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
// public+private endpoint, the kubectl 1.36 layer, the IAM OIDC provider for
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

	cluster := awseksv2.NewCluster(stack, jsii.String("Cluster"), &awseksv2.ClusterProps{
		ClusterName: jsii.String(props.ClusterName),
		Version:     awseksv2.KubernetesVersion_Of(jsii.String(props.KubernetesVersion)),
		Vpc:         props.Vpc,
		VpcSubnets:  &[]*awsec2.SubnetSelection{{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}},
		// Managed node groups (HybridLlmNodeGroups), not EKS Auto Mode; no
		// default group.
		DefaultCapacityType: awseksv2.DefaultCapacityType_NODEGROUP,
		DefaultCapacity:     jsii.Number(0),
		// aws-eks-v2 always uses API authentication mode (access entries, no
		// aws-auth ConfigMap). The principal deploying the stack gets no
		// cluster-admin entry: kubectl runs as the kubectl provider's role,
		// which aws-eks-v2 grants one, and people through adminPrincipalArn.
		BootstrapClusterCreatorAdminPermissions: jsii.Bool(false),
		// The kubectl handler runs in the private subnets (aws-eks-v2 picks
		// the cluster's private subnets when the private endpoint is on).
		KubectlProviderOptions: &awseksv2.KubectlProviderOptions{
			KubectlLayer: kubectllayer.New(stack, "KubectlLayer"),
		},
		SecretsEncryptionKey: secretsKey,
		EndpointAccess:       awseksv2.EndpointAccess_PUBLIC_AND_PRIVATE().OnlyFrom(*jsii.Strings(props.EndpointPublicCidrs...)...),
		ClusterLogging: &[]awseksv2.ClusterLoggingTypes{
			awseksv2.ClusterLoggingTypes_API,
			awseksv2.ClusterLoggingTypes_AUDIT,
			awseksv2.ClusterLoggingTypes_AUTHENTICATOR,
			awseksv2.ClusterLoggingTypes_CONTROLLER_MANAGER,
			awseksv2.ClusterLoggingTypes_SCHEDULER,
		},
	})

	cluster.Node().DefaultChild().Node().AddDependency(controlPlaneLogs)
	suppressClusterFindings(stack, cluster)
	expireKubectlProviderLogs(cluster, props.ControlPlaneLogRetentionDays)

	// aws-eks-v2 prints its config command only with a masters role, which API
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
	provider := cluster.OpenIdConnectProvider()
	// The IRSA trust conditions take the issuer out of the provider's ARN
	// with Fn::Split. cdk.json makes cross-stack references weak
	// (Fn::GetStackOutput), which cfn-lint (1.51.0, and 1.58.0) rejects inside
	// Fn::Split; Fn::ImportValue is accepted there, so this one reference
	// stays an export.
	provider.Node().DefaultChild().(awscdk.CfnResource).ApplyCrossStackReferenceStrength(awscdk.ReferenceStrength_STRONG)

	if props.AdminPrincipalArn != "" {
		cluster.GrantAccess(jsii.String("AdminAccess"), jsii.String(props.AdminPrincipalArn), &[]awseksv2.IAccessPolicy{
			awseksv2.AccessPolicy_FromAccessPolicyName(jsii.String("AmazonEKSClusterAdminPolicy"), &awseksv2.AccessPolicyNameOptions{
				AccessScopeType: awseksv2.AccessScopeType_CLUSTER,
			}),
		}, nil)
	} else {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("hybridllm:noAdminPrincipal"),
			jsii.String("hybridLlm.adminPrincipalArn is empty: no IAM principal gets cluster-admin, so kubectl works only through the CDK kubectl role. Set it to your role's ARN."), nil)
	}

	nodeRole := awsiam.NewRole(stack, jsii.String("NodeRole"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		ManagedPolicies: nodeRolePolicies(),
	})
	nag.Suppress(nodeRole, "The managed policies the EKS User Guide prescribes for the node IAM role (kubelet/EKS node API, the VPC CNI's ENI and IP calls, ECR image pulls, SSM Session Manager instead of SSH); AWS maintains them as EKS needs new actions",
		nag.ManagedPolicyRule(platform.NodeRoleManagedPolicies...))

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
func newManagedAddon(scope constructs.Construct, id string, cluster awseksv2.ICluster, name string) awseksv2.CfnAddon {
	return awseksv2.NewCfnAddon(scope, jsii.String(id), &awseksv2.CfnAddonProps{
		AddonName:        jsii.String(name),
		ClusterName:      cluster.ClusterName(),
		ResolveConflicts: jsii.String("OVERWRITE"),
	})
}

// expireKubectlProviderLogs gives the log groups aws-eks-v2 creates for its
// kubectl provider's functions (kept for ever after the stack by default,
// with a two-year retention) the control-plane logs' retention and deletes
// them with the stack, like every other log group of the app.
func expireKubectlProviderLogs(cluster awseksv2.Cluster, days int) {
	provider := cluster.Node().TryFindChild(jsii.String("KubectlProvider"))
	if provider == nil {
		panic("stacks: aws-eks-v2 created no KubectlProvider under the cluster")
	}
	found := 0
	for _, c := range *provider.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		r, ok := c.(awscdk.CfnResource)
		if !ok || *r.CfnResourceType() != "AWS::Logs::LogGroup" {
			continue
		}
		found++
		r.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY, nil)
		r.AddPropertyOverride(jsii.String("RetentionInDays"), days)
	}
	if found == 0 {
		panic("stacks: no log group under the kubectl provider (aws-eks-v2 changed?)")
	}
}

// suppressClusterFindings records why the cdk-nag findings on the cluster and
// on what aws-eks-v2 creates for it are accepted.
func suppressClusterFindings(stack awscdk.Stack, cluster awseksv2.Cluster) {
	nag.Suppress(cluster.Role(), "AmazonEKSClusterPolicy is the managed policy the EKS User Guide prescribes for the cluster service role; AWS maintains it as EKS needs new actions",
		nag.Rule("AwsSolutions-IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy"))

	provider := "Cluster/KubectlProvider"
	nag.SuppressPath(stack, provider, "aws-eks-v2's kubectl handler and its provider-framework Lambda log to CloudWatch and, VPC-attached, manage their ENIs through the managed policies aws-cdk-lib attaches; the handler also pulls Helm OCI charts from ECR (private, and public where the partition has it) through the read-only ECR policies",
		nag.Rule("AwsSolutions-IAM4",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
			`/^Policy::\{"Fn::If":\["ClusterKubectlProviderHandlerHasEcrPublic[0-9A-F]*".*AmazonElasticContainerRegistryPublicReadOnly/`))
	nag.SuppressPath(stack, provider, "The custom-resource provider framework invokes its own kubectl handler function by qualified ARN (<function ARN>:* covers its versions); the resource is that one function, not a wildcard over functions",
		nag.Rule("AwsSolutions-IAM5", `/^Resource::<ClusterKubectlProviderHandler[0-9A-F]+\.Arn>:\*$/`))
	nag.SuppressPath(stack, provider+"/Handler", "aws-cdk-lib 2.276 pins its kubectl handler to python3.13 and ships the AWS CLI layer built for that runtime; another runtime is untested upstream and would risk every kubectl/Helm operation. It moves with aws-cdk-lib upgrades",
		nag.Rule("AwsSolutions-L1"))
}

// nodeRolePolicies are platform.NodeRoleManagedPolicies as IAM managed policies.
func nodeRolePolicies() *[]awsiam.IManagedPolicy {
	var managed []awsiam.IManagedPolicy
	for _, name := range platform.NodeRoleManagedPolicies {
		managed = append(managed, awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String(name)))
	}
	return &managed
}
