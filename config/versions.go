package config

// Pinned versions of everything the platform installs. This is the one place
// where a version is chosen; README.md's version table mirrors it and says why.
//
// A chart version is only accepted when the repository also carries the
// upstream reference data checked against it (IAM policies, CRD schemas,
// chart values keys): bumping a version here without adding that data makes
// Validate fail, naming the missing reference.
const (
	// DefaultKubernetesVersion is the EKS control-plane version: the newest
	// that both the kubectl layer and Karpenter support (1.35's EKS standard
	// support ends 2027-03-27).
	DefaultKubernetesVersion = "1.36"

	// KubectlLayerVersion is the minor version of kubectl in the kubectl
	// Lambda layer (npm @aws-cdk/lambda-layer-kubectl-v36, see
	// constructs/kubectllayer). kubectl supports one minor version of skew
	// either way, which bounds the Kubernetes versions the app accepts.
	KubectlLayerVersion = "1.36"

	// KarpenterVersion is the version of both the karpenter and karpenter-crd
	// charts (oci://public.ecr.aws/karpenter) and of the controller.
	KarpenterVersion = "1.14.1"

	// LoadBalancerControllerChartVersion is the aws-load-balancer-controller
	// chart version (https://aws.github.io/eks-charts); it ships app v3.5.0.
	LoadBalancerControllerChartVersion = "3.5.0"

	// NvidiaDevicePluginChartVersion is the nvidia-device-plugin chart
	// version (https://nvidia.github.io/k8s-device-plugin).
	NvidiaDevicePluginChartVersion = "0.20.0"

	// KarpenterAMIAlias pins the EKS-optimized Amazon Linux 2023 release
	// Karpenter launches (EC2NodeClass amiSelectorTerms alias). A pinned
	// release, not @latest, so nodes change only when this line changes.
	KarpenterAMIAlias = "al2023@v20260714"
)

// Values of Config.Identity.
const (
	// IdentityIRSA is IAM Roles for Service Accounts through the cluster's
	// IAM OIDC provider (the design's default).
	IdentityIRSA = "irsa"
	// IdentityPodIdentity is EKS Pod Identity: a pod identity association
	// per controller, through the eks-pod-identity-agent add-on.
	IdentityPodIdentity = "podIdentity"
)

// Identities are the accepted values of Config.Identity.
var Identities = []string{IdentityIRSA, IdentityPodIdentity}

// minKubernetesMinor and maxKubernetesMinor bound the accepted Kubernetes
// versions: the kubectl 1.36 layer talks to 1.35–1.37 and Karpenter 1.14
// supports up to 1.36.
const (
	minKubernetesMinor = 35
	maxKubernetesMinor = 36
)

// SupportedKarpenterVersions lists the Karpenter versions whose reference
// data (controller IAM policy, CRDs, chart values keys) this repository carries.
var SupportedKarpenterVersions = []string{KarpenterVersion}

// SupportedLoadBalancerControllerChartVersions lists the chart versions whose
// reference data (controller IAM policy, chart values keys) this repository carries.
var SupportedLoadBalancerControllerChartVersions = []string{LoadBalancerControllerChartVersion}

// SupportedNvidiaDevicePluginChartVersions lists the chart versions whose
// values keys this repository carries.
var SupportedNvidiaDevicePluginChartVersions = []string{NvidiaDevicePluginChartVersion}
