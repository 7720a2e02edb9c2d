// Package config holds the typed configuration of hybrid-llm-platform: its
// defaults, how it is read from CDK context, and its validation.
//
// It is plain Go (no jsii types): app.go reads the context and hands a
// validated Config to the stacks, so every bad value is reported before a
// single construct exists.
package config

import "github.com/hybrid-llm/platform/platform"

// ContextKey is the CDK context key holding the configuration object in
// cdk.json; "-c hybridLlm.<field>=<value>" overrides one field.
const ContextKey = "hybridLlm"

// Config is the whole configuration of the platform. JSON names are the keys
// used in cdk.json and on the command line.
type Config struct {
	// ClusterName names the EKS cluster and prefixes what belongs to it.
	ClusterName string `json:"clusterName"`
	// Account is the AWS account to deploy to. Empty: the account of the
	// credentials `cdk deploy` runs with (environment-agnostic stacks).
	Account string `json:"account"`
	// Region is the AWS region to deploy to.
	Region string `json:"region"`
	// KubernetesVersion is the EKS control-plane version, "1.35" to "1.36".
	KubernetesVersion string `json:"kubernetesVersion"`
	// Network configures the VPC.
	Network Network `json:"network"`
	// EndpointPublicCidrs are the CIDRs allowed to reach the public EKS API
	// endpoint (the private endpoint is always on).
	EndpointPublicCidrs []string `json:"endpointPublicCidrs"`
	// ControlPlaneLogRetentionDays is how long the EKS control-plane logs
	// (api, audit, authenticator, controllerManager, scheduler) are kept.
	ControlPlaneLogRetentionDays int `json:"controlPlaneLogRetentionDays"`
	// Identity is how the controllers (Load Balancer Controller, Karpenter)
	// get their IAM roles: IdentityIRSA or IdentityPodIdentity.
	Identity string `json:"identity"`
	// AdminPrincipalArn is the IAM role or user granted cluster-admin through
	// an EKS access entry. Empty: no admin entry (a warning is printed).
	AdminPrincipalArn string `json:"adminPrincipalArn"`
	// SystemNodeGroup is the CPU managed node group for controllers.
	SystemNodeGroup NodeGroup `json:"systemNodeGroup"`
	// GPUNodeGroup is the GPU managed node group for model servers.
	GPUNodeGroup NodeGroup `json:"gpuNodeGroup"`
	// LoadBalancerController configures the AWS Load Balancer Controller.
	LoadBalancerController LoadBalancerController `json:"loadBalancerController"`
	// Karpenter configures Karpenter and its node pools.
	Karpenter Karpenter `json:"karpenter"`
	// Sweeper configures the teardown sweeper.
	Sweeper Sweeper `json:"sweeper"`
	// CDKNag configures the cdk-nag AwsSolutions checks.
	CDKNag CDKNag `json:"cdkNag"`
}

// Network configures the VPC of HybridLlmNetwork.
type Network struct {
	// VpcCidr is the VPC's IPv4 CIDR, a /16 to /20.
	VpcCidr string `json:"vpcCidr"`
	// AvailabilityZones are the AZs the VPC spans (2 to 6, all in Region).
	// Listed explicitly so synth needs no AWS lookup.
	AvailabilityZones []string `json:"availabilityZones"`
	// NatGateways is the number of NAT gateways: 1 for dev, one per AZ for
	// production (an AZ outage then does not cut the others off).
	NatGateways int `json:"natGateways"`
	// FlowLogRetentionDays is how long VPC flow logs are kept in CloudWatch.
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`
}

// NodeGroup configures one EKS managed node group.
type NodeGroup struct {
	// InstanceTypes are the EC2 instance types the group may use.
	InstanceTypes []string `json:"instanceTypes"`
	// MinSize is the group's minimum size.
	MinSize int `json:"minSize"`
	// DesiredSize is the group's size at creation.
	DesiredSize int `json:"desiredSize"`
	// MaxSize is the group's maximum size.
	MaxSize int `json:"maxSize"`
	// DiskSizeGiB is the root volume size in GiB.
	DiskSizeGiB int `json:"diskSizeGiB"`
}

// LoadBalancerController configures the AWS Load Balancer Controller add-on.
type LoadBalancerController struct {
	// Replicas is the number of controller replicas (>= 2 for a PDB to help).
	Replicas int `json:"replicas"`
}

// Karpenter configures the Karpenter add-on and its NodePools.
type Karpenter struct {
	// AMIAlias is the EC2NodeClass amiSelectorTerms alias, "al2023@vYYYYMMDD".
	AMIAlias string `json:"amiAlias"`
	// Replicas is the number of controller replicas.
	Replicas int `json:"replicas"`
	// SystemPool configures the default CPU pool.
	SystemPool Pool `json:"systemPool"`
	// GPUPool configures the default GPU pool.
	GPUPool Pool `json:"gpuPool"`
	// ExtraPools are more NodePools a user adds, each using the "system" or
	// "gpu" EC2NodeClass.
	ExtraPools []ExtraPool `json:"extraPools"`
	// NodePools are the pools to deploy, derived by Load (not a key): the
	// system and gpu pools, then ExtraPools, each on its node class's
	// defaults (see README "Karpenter node pools").
	NodePools []platform.NodePool `json:"-"`
}

// Pool is the tunable part of one Karpenter NodePool.
type Pool struct {
	// CapacityTypes are the karpenter.sh/capacity-type values: "on-demand", "spot".
	CapacityTypes []string `json:"capacityTypes"`
	// InstanceFamilies are karpenter.k8s.aws/instance-family values (m7i, g5...).
	InstanceFamilies []string `json:"instanceFamilies"`
	// CPULimit caps the pool's total vCPUs (0: no cpu limit).
	CPULimit int `json:"cpuLimit"`
	// MemoryLimitGiB caps the pool's total memory in GiB (0: no memory limit).
	MemoryLimitGiB int `json:"memoryLimitGiB"`
	// GPULimit caps the pool's total nvidia.com/gpu (0: no gpu limit).
	GPULimit int `json:"gpuLimit"`
	// ConsolidateAfter is how long a node must be empty or underutilized
	// before Karpenter consolidates it, as a Go/Karpenter duration ("30s", "1m").
	ConsolidateAfter string `json:"consolidateAfter"`
}

// ExtraPool is a user-defined NodePool.
type ExtraPool struct {
	// Name is the NodePool name (RFC 1123 label, not "system" or "gpu").
	Name string `json:"name"`
	// NodeClass is the EC2NodeClass it uses: "system" or "gpu".
	NodeClass string `json:"nodeClass"`
	// Pool holds capacity types, families, limits and consolidation.
	Pool
	// ConsolidationPolicy is "WhenEmpty" or "WhenEmptyOrUnderutilized".
	ConsolidationPolicy string `json:"consolidationPolicy"`
	// Labels are added to the pool's nodes.
	Labels map[string]string `json:"labels"`
	// Taints are "key=value:Effect" strings added to the pool's nodes.
	Taints []string `json:"taints"`
}

// Sweeper configures the teardown sweeper custom resource.
type Sweeper struct {
	// Enabled turns the sweeper on (default true).
	Enabled bool `json:"enabled"`
}

// CDKNag configures cdk-nag.
type CDKNag struct {
	// Enabled applies the AwsSolutions checks to every stack (default true).
	// The app skips them when the CLI skips validation (CDK_VALIDATION=false,
	// `cdk synth --no-validation`; app.go's validationOff).
	Enabled bool `json:"enabled"`
}

// Default returns the default configuration: a production-shaped platform
// in us-west-2 over three AZs.
func Default() Config {
	return Config{
		ClusterName:       "hybrid-llm",
		Region:            "us-west-2",
		KubernetesVersion: DefaultKubernetesVersion,
		Identity:          IdentityIRSA,
		Network: Network{
			VpcCidr:              "10.0.0.0/16",
			AvailabilityZones:    []string{"us-west-2a", "us-west-2b", "us-west-2c"},
			NatGateways:          3,
			FlowLogRetentionDays: 30,
		},
		EndpointPublicCidrs:          []string{"0.0.0.0/0"},
		ControlPlaneLogRetentionDays: 90,
		SystemNodeGroup: NodeGroup{
			InstanceTypes: []string{"m7i.xlarge", "m6i.xlarge"},
			MinSize:       2,
			DesiredSize:   2,
			MaxSize:       4,
			DiskSizeGiB:   50,
		},
		GPUNodeGroup: NodeGroup{
			InstanceTypes: []string{"g5.xlarge", "g6.xlarge", "g4dn.xlarge"},
			MinSize:       0,
			DesiredSize:   0,
			MaxSize:       2,
			DiskSizeGiB:   200,
		},
		LoadBalancerController: LoadBalancerController{
			Replicas: platform.DefaultReplicas,
		},
		Karpenter: Karpenter{
			AMIAlias: KarpenterAMIAlias,
			Replicas: platform.DefaultReplicas,
			SystemPool: Pool{
				CapacityTypes:    []string{"on-demand"},
				InstanceFamilies: []string{"m7i", "m6i"},
				CPULimit:         32,
				MemoryLimitGiB:   128,
				ConsolidateAfter: "30s",
			},
			GPUPool: Pool{
				CapacityTypes:    []string{"spot", "on-demand"},
				InstanceFamilies: []string{"g5", "g6", "g4dn"},
				GPULimit:         8,
				ConsolidateAfter: "1m",
			},
			ExtraPools: []ExtraPool{},
		},
		Sweeper: Sweeper{Enabled: true},
		CDKNag:  CDKNag{Enabled: true},
	}
}
