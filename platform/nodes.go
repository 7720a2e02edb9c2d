package platform

// NodeRoleManagedPolicies are the AWS managed policies of the IAM role of
// every node, managed node group or Karpenter-launched: kubelet and the EKS
// node API, the VPC CNI's ENI and IP calls, ECR image pulls, SSM Session
// Manager instead of SSH. They are the policies of KarpenterNodeRole in
// Karpenter 1.14.1's getting-started CloudFormation template and of the node
// IAM role in the EKS User Guide.
var NodeRoleManagedPolicies = []string{
	"AmazonEKSWorkerNodePolicy",
	"AmazonEKS_CNI_Policy",
	"AmazonEC2ContainerRegistryPullOnly",
	"AmazonSSMManagedInstanceCore",
}

// DefaultReplicas is the number of pods of each controller (Karpenter, the
// Load Balancer Controller) when not configured: two, on separate hosts, so
// a node drain never takes the controller down.
const DefaultReplicas = 2
