package platform

// AddonVersion pins a Helm chart and the application it ships.
type AddonVersion struct {
	// Chart is the Helm chart version.
	Chart string
	// App is the version of the application the chart installs; the
	// reference data in this repository (IAM policies, CRDs) is keyed by it.
	App string
}

// Pinned versions of everything the platform installs. This is the one place
// where a version is chosen; README.md's version table mirrors it and says
// why. A bump changes one line here and adds the upstream reference data
// checked against it (IAM policy, CRDs, chart values keys: tests name what is
// missing).
var (
	// Karpenter is the karpenter and karpenter-crd charts
	// (oci://public.ecr.aws/karpenter), released with the controller.
	Karpenter = AddonVersion{Chart: "1.14.1", App: "1.14.1"}
	// LoadBalancerController is the aws-load-balancer-controller chart
	// (https://aws.github.io/eks-charts).
	LoadBalancerController = AddonVersion{Chart: "3.5.0", App: "v3.5.0"}
	// NvidiaDevicePlugin is the nvidia-device-plugin chart
	// (https://nvidia.github.io/k8s-device-plugin).
	NvidiaDevicePlugin = AddonVersion{Chart: "0.20.0", App: "0.20.0"}
)
