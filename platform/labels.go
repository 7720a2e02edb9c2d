package platform

// Node labels and the GPU taint shared by the managed node groups and the
// Karpenter pools, so workloads select a purpose, not a provisioner.
const (
	// LabelPurpose (node.kubernetes.io/purpose) names what a node is for.
	LabelPurpose = "node.kubernetes.io/purpose"
	// PurposeSystem marks nodes for controllers and the hybrid router.
	PurposeSystem = "system"
	// PurposeGPU marks nodes for vLLM model servers.
	PurposeGPU = "gpu-inference"
	// LabelGPUPresent marks GPU nodes for the NVIDIA device plugin: its
	// chart's default node affinity (nvidia-device-plugin 0.20.0) requires
	// this label or Node Feature Discovery labels, which EKS does not set.
	LabelGPUPresent = "nvidia.com/gpu.present"
	// ResourceGPU is the extended resource the NVIDIA device plugin
	// advertises; it is also the key of the GPU taint.
	ResourceGPU = "nvidia.com/gpu"
)

// GPUTaint keeps everything but GPU work off GPU nodes
// (nvidia.com/gpu=present:NoSchedule), on the GPU node group and the GPU pool.
var GPUTaint = Taint{Key: ResourceGPU, Value: "present", Effect: "NoSchedule"}

// Well-known node label keys used in Karpenter NodePool requirements.
const (
	// LabelCapacityType is karpenter.sh/capacity-type: on-demand, spot, reserved.
	LabelCapacityType = "karpenter.sh/capacity-type"
	// LabelInstanceFamily is karpenter.k8s.aws/instance-family, e.g. m7i.
	LabelInstanceFamily = "karpenter.k8s.aws/instance-family"
	// LabelInstanceSize is karpenter.k8s.aws/instance-size, e.g. 2xlarge.
	LabelInstanceSize = "karpenter.k8s.aws/instance-size"
	// LabelArch is kubernetes.io/arch.
	LabelArch = "kubernetes.io/arch"
	// LabelOS is kubernetes.io/os.
	LabelOS = "kubernetes.io/os"
	// LabelNodePool is karpenter.sh/nodepool, the label (and tag) Karpenter
	// puts on every node (and instance) it launches.
	LabelNodePool = "karpenter.sh/nodepool"
)
