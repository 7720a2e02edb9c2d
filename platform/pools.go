package platform

// Names of the default Karpenter pools and of the EC2NodeClasses every pool
// uses.
const (
	// NodeClassSystem names the default CPU NodePool and its EC2NodeClass,
	// for platform components (controllers, ingress) on general-purpose nodes.
	NodeClassSystem = "system"
	// NodeClassGPU names the default GPU NodePool and its EC2NodeClass, for
	// GPU inference.
	NodeClassGPU = "gpu"
)

// NodePool is a Karpenter NodePool as the platform configures it: config
// derives it (defaults, class settings, the user's values, all validated),
// karpenterpools renders it to a karpenter.sh/v1 NodePool.
type NodePool struct {
	// Name is the NodePool name, an RFC 1123 label.
	Name string
	// NodeClass is the EC2NodeClass the pool launches with: NodeClassSystem
	// or NodeClassGPU.
	NodeClass string
	// CapacityTypes are the allowed karpenter.sh/capacity-type values.
	CapacityTypes []string
	// InstanceFamilies are the allowed karpenter.k8s.aws/instance-family values.
	InstanceFamilies []string
	// InstanceSizes are the allowed karpenter.k8s.aws/instance-size values;
	// empty allows every size.
	InstanceSizes []string
	// Labels are put on every node of the pool.
	Labels map[string]string
	// Taints are put on every node of the pool.
	Taints []Taint
	// CPULimit caps the pool's total vCPUs (0: no cpu limit).
	CPULimit int
	// MemoryLimitGiB caps the pool's total memory in GiB (0: no memory limit).
	MemoryLimitGiB int
	// GPULimit caps the pool's total nvidia.com/gpu (0: no gpu limit).
	GPULimit int
	// ConsolidationPolicy is "WhenEmpty" or "WhenEmptyOrUnderutilized".
	ConsolidationPolicy string
	// ConsolidateAfter is a Karpenter duration such as "30s".
	ConsolidateAfter string
	// DisruptionBudget is how many nodes may be disrupted at once, a count
	// ("1") or a percentage ("10%").
	DisruptionBudget string
}

// Taint is a node taint.
type Taint struct {
	// Key is the taint key.
	Key string
	// Value is the taint value (may be empty).
	Value string
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect string
}
