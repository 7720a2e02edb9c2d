package karpenterpools

import "encoding/json"

// API groups, versions and kinds of the objects this package renders.
const (
	// NodePoolAPIVersion is the apiVersion of NodePool objects.
	NodePoolAPIVersion = "karpenter.sh/v1"
	// NodePoolKind is the kind of NodePool objects.
	NodePoolKind = "NodePool"
	// EC2NodeClassGroup is the API group of EC2NodeClass objects, the
	// value of a NodePool's nodeClassRef.group.
	EC2NodeClassGroup = "karpenter.k8s.aws"
	// EC2NodeClassAPIVersion is the apiVersion of EC2NodeClass objects.
	EC2NodeClassAPIVersion = EC2NodeClassGroup + "/v1"
	// EC2NodeClassKind is the kind of EC2NodeClass objects, the value of a
	// NodePool's nodeClassRef.kind.
	EC2NodeClassKind = "EC2NodeClass"
)

// ObjectMeta is the metadata of a cluster-scoped object: NodePools and
// EC2NodeClasses are cluster-scoped, so there is no namespace.
type ObjectMeta struct {
	// Name is the object's name (an RFC 1123 subdomain).
	Name string `json:"name"`
	// Labels are the object's own labels (not the labels of its nodes).
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are the object's own annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// EC2NodeClass is a karpenter.k8s.aws/v1 EC2NodeClass: how nodes are
// launched in AWS (AMI, subnets, security groups, IAM role, disks).
// It marshals to JSON with its apiVersion and kind.
type EC2NodeClass struct {
	// Metadata holds the object's name.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the EC2NodeClass spec.
	Spec EC2NodeClassSpec `json:"spec"`
}

// MarshalJSON renders the object with apiVersion and kind.
func (c EC2NodeClass) MarshalJSON() ([]byte, error) {
	type plain EC2NodeClass
	return json.Marshal(struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		plain
	}{EC2NodeClassAPIVersion, EC2NodeClassKind, plain(c)})
}

// EC2NodeClassSpec is the spec of an EC2NodeClass.
type EC2NodeClassSpec struct {
	// AMIFamily selects user data format and default block devices
	// (AL2, AL2023, Bottlerocket, Custom, Windows2019/2022/2025). Optional with
	// an alias term, whose family it must then match; required otherwise.
	AMIFamily string `json:"amiFamily,omitempty"`
	// AMISelectorTerms select the AMIs (required). An alias term
	// ("al2023@v20260714") must be the only term.
	AMISelectorTerms []AMISelectorTerm `json:"amiSelectorTerms,omitempty"`
	// SubnetSelectorTerms select the subnets nodes are launched in (required).
	SubnetSelectorTerms []SubnetSelectorTerm `json:"subnetSelectorTerms,omitempty"`
	// SecurityGroupSelectorTerms select the nodes' security groups (required).
	SecurityGroupSelectorTerms []SecurityGroupSelectorTerm `json:"securityGroupSelectorTerms,omitempty"`
	// Role is the IAM role name Karpenter builds an instance profile for.
	// Exactly one of Role and InstanceProfile is set. May be a CDK token.
	Role string `json:"role,omitempty"`
	// InstanceProfile is an existing instance profile name, instead of Role.
	InstanceProfile string `json:"instanceProfile,omitempty"`
	// BlockDeviceMappings replace the AMI family's default block devices.
	BlockDeviceMappings []BlockDeviceMapping `json:"blockDeviceMappings,omitempty"`
	// InstanceStorePolicy "RAID0" puts local NVMe instance store disks into
	// one RAID0 array used for kubelet and container storage.
	InstanceStorePolicy string `json:"instanceStorePolicy,omitempty"`
	// MetadataOptions configure IMDS on the nodes. Upstream default when
	// nil: endpoint enabled, IPv6 disabled, hop limit 1, tokens required.
	MetadataOptions *MetadataOptions `json:"metadataOptions,omitempty"`
	// Tags are applied to instances, volumes, launch templates.
	Tags map[string]string `json:"tags,omitempty"`
	// DetailedMonitoring enables EC2 detailed (1-minute) monitoring.
	DetailedMonitoring *bool `json:"detailedMonitoring,omitempty"`
	// UserData is merged by Karpenter into the generated user data.
	UserData string `json:"userData,omitempty"`
}

// AMISelectorTerm selects AMIs; the fields of one term are ANDed, terms ORed.
type AMISelectorTerm struct {
	// Alias selects an EKS-optimized AMI as "family@version", e.g.
	// "al2023@v20260714". Mutually exclusive with every other field and term.
	Alias string `json:"alias,omitempty"`
	// ID is an AMI id (ami-...).
	ID string `json:"id,omitempty"`
	// Name is an AMI name (wildcards allowed).
	Name string `json:"name,omitempty"`
	// Owner restricts Name to AMI owners ("self", "amazon", account ids).
	Owner string `json:"owner,omitempty"`
	// SSMParameter is the name or ARN of an SSM parameter holding an AMI id.
	SSMParameter string `json:"ssmParameter,omitempty"`
	// Tags match AMI tags ("*" matches any value).
	Tags map[string]string `json:"tags,omitempty"`
}

// SubnetSelectorTerm selects subnets by tags or id.
type SubnetSelectorTerm struct {
	// Tags match subnet tags.
	Tags map[string]string `json:"tags,omitempty"`
	// ID is a subnet id (subnet-...), exclusive with Tags.
	ID string `json:"id,omitempty"`
}

// SecurityGroupSelectorTerm selects security groups by tags, id or name.
type SecurityGroupSelectorTerm struct {
	// Tags match security group tags.
	Tags map[string]string `json:"tags,omitempty"`
	// ID is a security group id (sg-...); may be a CDK token. Exclusive with
	// Tags and Name.
	ID string `json:"id,omitempty"`
	// Name is a security group name.
	Name string `json:"name,omitempty"`
}

// BlockDeviceMapping is one EBS volume of the launch template.
type BlockDeviceMapping struct {
	// DeviceName is the device name, e.g. /dev/xvda (AL2023 root).
	DeviceName string `json:"deviceName,omitempty"`
	// EBS configures the volume.
	EBS *BlockDevice `json:"ebs,omitempty"`
	// RootVolume marks the volume Karpenter treats as root (at most one).
	RootVolume bool `json:"rootVolume,omitempty"`
}

// BlockDevice is an EBS volume definition.
type BlockDevice struct {
	// DeleteOnTermination deletes the volume with the instance.
	DeleteOnTermination *bool `json:"deleteOnTermination,omitempty"`
	// Encrypted encrypts the volume (with KMSKeyID or the account default key).
	Encrypted *bool `json:"encrypted,omitempty"`
	// IOPS is the provisioned IOPS (gp3: 3000-16000).
	IOPS *int64 `json:"iops,omitempty"`
	// KMSKeyID is the KMS key for encryption.
	KMSKeyID string `json:"kmsKeyID,omitempty"`
	// SnapshotID is the snapshot the volume is created from.
	SnapshotID string `json:"snapshotID,omitempty"`
	// Throughput is gp3 throughput in MiB/s.
	Throughput *int64 `json:"throughput,omitempty"`
	// VolumeSize is a quantity such as "200Gi".
	VolumeSize string `json:"volumeSize,omitempty"`
	// VolumeType is the EBS type, e.g. gp3.
	VolumeType string `json:"volumeType,omitempty"`
}

// MetadataOptions configure the instance metadata service (IMDS).
type MetadataOptions struct {
	// HTTPEndpoint is "enabled" or "disabled".
	HTTPEndpoint string `json:"httpEndpoint,omitempty"`
	// HTTPProtocolIPv6 is "enabled" or "disabled".
	HTTPProtocolIPv6 string `json:"httpProtocolIPv6,omitempty"`
	// HTTPPutResponseHopLimit is the IMDSv2 token hop limit (1-64). 1 keeps
	// pods that are not on the host network away from the node role.
	HTTPPutResponseHopLimit *int64 `json:"httpPutResponseHopLimit,omitempty"`
	// HTTPTokens is "required" (IMDSv2 only) or "optional".
	HTTPTokens string `json:"httpTokens,omitempty"`
}

// NodePool is a karpenter.sh/v1 NodePool: which nodes Karpenter may create
// for pending pods, how many, and when it may remove them.
// It marshals to JSON with its apiVersion and kind.
type NodePool struct {
	// Metadata holds the object's name.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the NodePool spec.
	Spec NodePoolSpec `json:"spec"`
}

// MarshalJSON renders the object with apiVersion and kind.
func (p NodePool) MarshalJSON() ([]byte, error) {
	type plain NodePool
	return json.Marshal(struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		plain
	}{NodePoolAPIVersion, NodePoolKind, plain(p)})
}

// NodePoolSpec is the spec of a NodePool.
type NodePoolSpec struct {
	// Template describes the NodeClaims (nodes) of the pool.
	Template NodeClaimTemplate `json:"template"`
	// Disruption says when Karpenter may consolidate nodes. Upstream default
	// when nil: WhenEmptyOrUnderutilized after 0s, budget 10% of nodes.
	Disruption *Disruption `json:"disruption,omitempty"`
	// Limits caps the summed capacity of the pool's nodes, by resource name
	// ("cpu", "memory", "nvidia.com/gpu") as quantities ("32", "128Gi").
	Limits map[string]string `json:"limits,omitempty"`
	// Weight orders pools (1-100, higher first). Nil means 0.
	Weight *int32 `json:"weight,omitempty"`
}

// NodeClaimTemplate is the template of a NodePool's NodeClaims.
type NodeClaimTemplate struct {
	// Metadata holds labels and annotations put on the nodes.
	Metadata *TemplateMetadata `json:"metadata,omitempty"`
	// Spec is the NodeClaim spec.
	Spec NodeClaimTemplateSpec `json:"spec"`
}

// TemplateMetadata holds labels and annotations applied to the nodes.
type TemplateMetadata struct {
	// Labels are node labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are node annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// NodeClaimTemplateSpec describes the nodes of a pool.
type NodeClaimTemplateSpec struct {
	// NodeClassRef names the EC2NodeClass the nodes are launched with.
	NodeClassRef NodeClassReference `json:"nodeClassRef"`
	// Requirements constrain instance types, capacity types, zones, ...
	Requirements []NodeSelectorRequirement `json:"requirements"`
	// Taints are put on every node of the pool.
	Taints []Taint `json:"taints,omitempty"`
	// StartupTaints are put on new nodes and expected to be removed by a
	// DaemonSet.
	StartupTaints []Taint `json:"startupTaints,omitempty"`
	// ExpireAfter is the node lifetime ("720h", "Never"). Upstream default 720h.
	ExpireAfter string `json:"expireAfter,omitempty"`
	// TerminationGracePeriod bounds how long a draining node waits for its
	// pods (PodDisruptionBudgets and preStop included) before it is
	// terminated anyway. Unset means no bound.
	TerminationGracePeriod string `json:"terminationGracePeriod,omitempty"`
}

// NodeClassReference points a NodePool to its node class.
type NodeClassReference struct {
	// Group is the node class API group (EC2NodeClassGroup).
	Group string `json:"group"`
	// Kind is the node class kind (EC2NodeClassKind).
	Kind string `json:"kind"`
	// Name is the node class name.
	Name string `json:"name"`
}

// NodeSelectorRequirement is a requirement on a node label.
type NodeSelectorRequirement struct {
	// Key is the label key, e.g. karpenter.k8s.aws/instance-family.
	Key string `json:"key"`
	// Operator is In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte or Lte.
	Operator string `json:"operator"`
	// Values are the operand values.
	Values []string `json:"values,omitempty"`
	// MinValues is the least number of distinct values Karpenter must keep
	// available for flexibility.
	MinValues *int32 `json:"minValues,omitempty"`
}

// Taint is a node taint.
type Taint struct {
	// Key is the taint key.
	Key string `json:"key"`
	// Value is the taint value.
	Value string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect string `json:"effect"`
}

// Disruption configures consolidation of a pool.
type Disruption struct {
	// ConsolidationPolicy is WhenEmpty, WhenEmptyOrUnderutilized or Balanced.
	ConsolidationPolicy string `json:"consolidationPolicy,omitempty"`
	// ConsolidateAfter is how long a node must be consolidatable before
	// Karpenter acts ("30s", "1m", "Never"). Required by the CRD.
	ConsolidateAfter string `json:"consolidateAfter,omitempty"`
	// Budgets limit how many nodes may be disrupted at once.
	Budgets []Budget `json:"budgets,omitempty"`
}

// Budget limits voluntary disruption.
type Budget struct {
	// Nodes is a count ("1") or percentage ("10%") of nodes.
	Nodes string `json:"nodes"`
	// Schedule is a cron schedule when the budget is active; needs Duration.
	Schedule string `json:"schedule,omitempty"`
	// Duration is how long the budget is active after each Schedule tick.
	Duration string `json:"duration,omitempty"`
	// Reasons restricts the budget to Underutilized, Empty or Drifted.
	Reasons []string `json:"reasons,omitempty"`
}
