package config

// The Kubernetes versions the platform runs. The add-ons' versions are in
// package platform (versions.go), not in the configuration: each needs
// reference data checked into this repository.
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
