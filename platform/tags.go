package platform

// ProjectName is the value of the "project" tag on every resource.
const ProjectName = "hybrid-llm-platform"

// Tags returns the tags the platform puts on everything it creates for
// cluster: its stacks (and so every taggable resource in them) and the
// instances, volumes and launch templates Karpenter launches.
func Tags(cluster string) map[string]string {
	return map[string]string{"project": ProjectName, "cluster": cluster}
}

// Subnet tags read by the AWS Load Balancer Controller (subnet auto-discovery)
// and by Karpenter's EC2NodeClass subnetSelectorTerms.
const (
	// TagPublicELB marks the subnets for internet-facing load balancers.
	TagPublicELB = "kubernetes.io/role/elb"
	// TagInternalELB marks the subnets for internal load balancers.
	TagInternalELB = "kubernetes.io/role/internal-elb"
	// TagKarpenterDiscovery, with the cluster name as value, marks the
	// private subnets Karpenter launches into.
	TagKarpenterDiscovery = "karpenter.sh/discovery"
)

// Tag keys that mark a resource as created by a controller of the cluster.
// Sources: aws/karpenter-provider-aws v1.14.1 pkg/apis/v1/labels.go
// (EKSClusterNameTagKey, LabelNodeClass), pkg/utils/utils.go (GetTags: the
// tags of instances and their launch templates),
// pkg/apis/v1/ec2nodeclass.go (InstanceProfileTags),
// website/content/en/docs/upgrading/upgrade-guide.md (the dropped
// karpenter.k8s.aws/cluster launch template tag);
// kubernetes-sigs/aws-load-balancer-controller v3.5.0
// pkg/shared_constants/tag_keys.go (TagKeyK8sCluster on load balancers,
// target groups and security groups), pkg/networking/networking_manager.go
// (the node security group carries kubernetes.io/cluster/<cluster>).
const (
	// TagNodePool is the key Karpenter puts on every instance it launches.
	TagNodePool = LabelNodePool
	// TagNodeClass is the key Karpenter puts on its instances, launch templates and instance profiles.
	TagNodeClass = "karpenter.k8s.aws/ec2nodeclass"
	// TagEKSClusterName is the key whose value is the cluster name on Karpenter's launch templates.
	TagEKSClusterName = "eks:eks-cluster-name"
	// TagLegacyLaunchTemplateCluster is the key older Karpenter releases put on launch templates.
	TagLegacyLaunchTemplateCluster = "karpenter.k8s.aws/cluster"
	// TagELBCluster is the key whose value is the cluster name on the Load Balancer Controller's resources.
	TagELBCluster = "elbv2.k8s.aws/cluster"
)

// Tag keys EKS and the VPC CNI put on what they create for a cluster.
const (
	// TagEKSClusterSecurityGroup is the key whose value is the cluster name
	// on the cluster security group EKS creates.
	TagEKSClusterSecurityGroup = "aws:eks:cluster-name"
	// TagCNICluster is the key whose value is the cluster name on the network
	// interfaces the Amazon VPC CNI creates.
	TagCNICluster = "cluster.k8s.amazonaws.com/name"
)

// ClusterOwnedTag returns the key of the kubernetes.io/cluster/<cluster> tag
// (value "owned") that Karpenter puts on its instances.
func ClusterOwnedTag(cluster string) string { return "kubernetes.io/cluster/" + cluster }
