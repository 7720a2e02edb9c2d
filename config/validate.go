package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/hybrid-llm/platform/platform"
)

// Validate reports every invalid value in c, each error naming the field,
// the value and what is allowed. It is built from small checks so each rule
// can be read (and tested) on its own.
func (c Config) Validate() error {
	_, err := c.validate()
	return err
}

// validate is Validate that also returns the NodePools derived from c (nil
// when c is invalid), so Load parses every pool once.
func (c Config) validate() ([]platform.NodePool, error) {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(validateClusterName(c.ClusterName))
	add(validateAccount(c.Account))
	add(validateRegion(c.Region))
	add(validateKubernetesVersion(c.KubernetesVersion))
	add(validateIdentity(c.Identity))
	add(validateNetwork(c.Network, c.Region))
	add(validateEndpointCidrs(c.EndpointPublicCidrs))
	add(validateRetention(key("controlPlaneLogRetentionDays"), c.ControlPlaneLogRetentionDays))
	add(validateAdminPrincipal(c.AdminPrincipalArn))
	add(validateNodeGroup(key("systemNodeGroup"), c.SystemNodeGroup, systemNodeGroupRule))
	add(validateNodeGroup(key("gpuNodeGroup"), c.GPUNodeGroup, gpuNodeGroupRule))
	add(validateReplicas(key("loadBalancerController.replicas"), c.LoadBalancerController.Replicas))
	add(validateReplicas(key("karpenter.replicas"), c.Karpenter.Replicas))
	add(validateAMIAlias(c.Karpenter.AMIAlias))
	add(validatePool(key("karpenter.systemPool"), c.Karpenter.SystemPool, false))
	add(validatePool(key("karpenter.gpuPool"), c.Karpenter.GPUPool, true))
	add(validateExtraPools(c.Karpenter.ExtraPools))
	pools, err := nodePools(c.Karpenter)
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return pools, nil
}

var (
	accountRe      = regexp.MustCompile(`^[0-9]{12}$`)
	k8sVersionRe   = regexp.MustCompile(`^1\.([0-9]+)$`)
	principalRe    = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$`)
	instanceTypeRe = regexp.MustCompile(`^([a-z][a-z0-9-]*)\.([0-9]*[a-z]+)$`)
	amiAliasRe     = regexp.MustCompile(`^al2023@v[0-9]{8}$`)
)

// key returns the full name of a configuration key as a user writes it
// ("-c hybridLlm.<path>=..."), the form every message uses.
func key(path string) string { return ContextKey + "." + path }

// LogRetentionDays are the retention periods CloudWatch Logs accepts, in days.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// gpuFamilies are instance families with NVIDIA GPUs that the AL2023 NVIDIA
// AMIs and the device plugin support.
var gpuFamilies = []string{"g4dn", "g5", "g6", "g6e", "gr6", "p4d", "p4de", "p5", "p5e", "p5en"}

// isGPUFamily reports whether family is an NVIDIA GPU instance family.
func isGPUFamily(family string) bool { return slices.Contains(gpuFamilies, family) }

func validateClusterName(name string) error {
	// EKS allows up to 100 characters; the name also appears in IAM role
	// names and tag keys, so keep it short and DNS-like.
	if len(name) > 40 || len(validation.IsDNS1123Label(name)) > 0 {
		return fmt.Errorf("hybridLlm.clusterName %q is invalid: use 1-40 lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return nil
}

func validateAccount(account string) error {
	if account != "" && !accountRe.MatchString(account) {
		return fmt.Errorf("hybridLlm.account %q is invalid: use a 12-digit AWS account id, or leave it empty for the account of your credentials", account)
	}
	return nil
}

func validateRegion(region string) error {
	if !platform.IsRegion(region) {
		return fmt.Errorf("hybridLlm.region %q is invalid: use an AWS region code such as \"us-west-2\"", region)
	}
	return nil
}

func validateKubernetesVersion(v string) error {
	allowed := fmt.Sprintf("use 1.%d–1.%d", minKubernetesMinor, maxKubernetesMinor)
	m := k8sVersionRe.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("hybridLlm.kubernetesVersion %q is not a Kubernetes minor version; %s", v, allowed)
	}
	minor, _ := strconv.Atoi(m[1])
	if minor < minKubernetesMinor || minor > maxKubernetesMinor {
		return fmt.Errorf("hybridLlm.kubernetesVersion %s is not supported by the kubectl %s layer and Karpenter %s; %s", v, KubectlLayerVersion, platform.Karpenter.App, allowed)
	}
	return nil
}

func validateIdentity(v string) error {
	if !slices.Contains(Identities, v) {
		return fmt.Errorf("hybridLlm.identity %q is not supported; use %s", v, strings.Join(Identities, " or "))
	}
	return nil
}

func validateNetwork(n Network, region string) error {
	var errs []error
	prefix, err := netip.ParsePrefix(n.VpcCidr)
	switch {
	case err != nil || !prefix.Addr().Is4() || prefix.Masked() != prefix:
		errs = append(errs, fmt.Errorf("hybridLlm.network.vpcCidr %q is not an IPv4 network CIDR such as \"10.0.0.0/16\"", n.VpcCidr))
	case prefix.Bits() < 16 || prefix.Bits() > 20:
		errs = append(errs, fmt.Errorf("hybridLlm.network.vpcCidr %q has a /%d prefix; use /16 to /20 (pods take VPC IPs)", n.VpcCidr, prefix.Bits()))
	}
	azs := n.AvailabilityZones
	if len(azs) < 2 || len(azs) > 6 {
		errs = append(errs, fmt.Errorf("hybridLlm.network.availabilityZones has %d zones; use 2 to 6 (EKS needs subnets in at least 2 AZs)", len(azs)))
	}
	seen := map[string]bool{}
	for _, az := range azs {
		if !strings.HasPrefix(az, region) || len(az) <= len(region) {
			errs = append(errs, fmt.Errorf("hybridLlm.network.availabilityZones: %q is not an availability zone of region %q (e.g. %q)", az, region, region+"a"))
		}
		if seen[az] {
			errs = append(errs, fmt.Errorf("hybridLlm.network.availabilityZones: %q is listed twice", az))
		}
		seen[az] = true
	}
	if n.NatGateways < 1 || n.NatGateways > len(azs) {
		errs = append(errs, fmt.Errorf("hybridLlm.network.natGateways %d is out of range; use 1 (dev) to %d (one per AZ, production): private subnets need a NAT gateway to pull images", n.NatGateways, len(azs)))
	}
	errs = append(errs, validateRetention(key("network.flowLogRetentionDays"), n.FlowLogRetentionDays))
	return errors.Join(errs...)
}

func validateRetention(field string, days int) error {
	if !slices.Contains(LogRetentionDays, days) {
		return fmt.Errorf("%s %d is not a CloudWatch Logs retention; use one of %s", field, days, joinInts(LogRetentionDays))
	}
	return nil
}

func validateEndpointCidrs(cidrs []string) error {
	if len(cidrs) == 0 {
		return errors.New("hybridLlm.endpointPublicCidrs is empty; list at least one CIDR allowed to reach the public API endpoint (e.g. your office range)")
	}
	var errs []error
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			errs = append(errs, fmt.Errorf("hybridLlm.endpointPublicCidrs: %q is not an IPv4 network CIDR such as \"203.0.113.0/24\"", c))
		}
	}
	return errors.Join(errs...)
}

func validateAdminPrincipal(arn string) error {
	if arn != "" && !principalRe.MatchString(arn) {
		return fmt.Errorf("hybridLlm.adminPrincipalArn %q is not an IAM role or user ARN such as \"arn:aws:iam::123456789012:role/Admin\"", arn)
	}
	return nil
}

// nodeGroupRule is what one managed node group must satisfy beyond sizes
// being ordered.
type nodeGroupRule struct {
	// minSize is the least minSize allowed, and why.
	minSize int
	why     string
	// gpu says whether the group's instances must (true) or must not
	// (false) have NVIDIA GPUs.
	gpu bool
}

var (
	// systemNodeGroupRule: two hosts for the controllers' two replicas.
	systemNodeGroupRule = nodeGroupRule{minSize: platform.DefaultReplicas, why: fmt.Sprintf(" (Karpenter and the Load Balancer Controller run %d replicas on separate hosts)", platform.DefaultReplicas)}
	// gpuNodeGroupRule: may scale to zero.
	gpuNodeGroupRule = nodeGroupRule{minSize: 0, gpu: true}
)

func validateNodeGroup(field string, g NodeGroup, rule nodeGroupRule) error {
	gpu := rule.gpu
	var errs []error
	if len(g.InstanceTypes) == 0 {
		errs = append(errs, fmt.Errorf("%s.instanceTypes is empty; list at least one instance type", field))
	}
	for _, it := range g.InstanceTypes {
		m := instanceTypeRe.FindStringSubmatch(it)
		switch {
		case m == nil:
			errs = append(errs, fmt.Errorf("%s.instanceTypes: %q is not an EC2 instance type such as \"m7i.xlarge\"", field, it))
		case gpu && !isGPUFamily(m[1]):
			errs = append(errs, fmt.Errorf("%s.instanceTypes: %q has no NVIDIA GPU; use a family of %s", field, it, strings.Join(gpuFamilies, ", ")))
		case !gpu && isGPUFamily(m[1]):
			errs = append(errs, fmt.Errorf("%s.instanceTypes: %q is a GPU instance; the system group runs controllers on CPU instances", field, it))
		}
	}
	if g.MinSize < rule.minSize {
		errs = append(errs, fmt.Errorf("%s.minSize %d is too small; use at least %d%s", field, g.MinSize, rule.minSize, rule.why))
	}
	if g.MaxSize < 1 || g.MaxSize < g.MinSize {
		errs = append(errs, fmt.Errorf("%s.maxSize %d must be at least 1 and at least minSize (%d)", field, g.MaxSize, g.MinSize))
	}
	if g.DesiredSize < g.MinSize || g.DesiredSize > g.MaxSize {
		errs = append(errs, fmt.Errorf("%s.desiredSize %d must be between minSize (%d) and maxSize (%d)", field, g.DesiredSize, g.MinSize, g.MaxSize))
	}
	if g.DiskSizeGiB < 20 || g.DiskSizeGiB > 16384 {
		errs = append(errs, fmt.Errorf("%s.diskSizeGiB %d is out of range; use 20 to 16384", field, g.DiskSizeGiB))
	}
	return errors.Join(errs...)
}

func validateReplicas(field string, n int) error {
	if n < 1 || n > 5 {
		return fmt.Errorf("%s %d is out of range; use 1 to 5 (2 keeps the controller up during node drains)", field, n)
	}
	return nil
}

func validateAMIAlias(alias string) error {
	if !amiAliasRe.MatchString(alias) {
		return fmt.Errorf("hybridLlm.karpenter.amiAlias %q is invalid: use a pinned Amazon Linux 2023 release such as %q (AL2 AMIs do not exist past Kubernetes 1.32; @latest changes nodes without a deploy)", alias, KarpenterAMIAlias)
	}
	return nil
}

func validatePool(field string, p Pool, gpu bool) error {
	var errs []error
	if len(p.CapacityTypes) == 0 {
		errs = append(errs, fmt.Errorf("%s.capacityTypes is empty; use \"on-demand\" and/or \"spot\"", field))
	}
	for _, ct := range p.CapacityTypes {
		if ct != "on-demand" && ct != "spot" {
			errs = append(errs, fmt.Errorf("%s.capacityTypes: %q is not a capacity type; use \"on-demand\" or \"spot\"", field, ct))
		}
	}
	if len(p.InstanceFamilies) == 0 {
		errs = append(errs, fmt.Errorf("%s.instanceFamilies is empty; list at least one instance family such as \"m7i\"", field))
	}
	for _, f := range p.InstanceFamilies {
		switch {
		case len(validation.IsDNS1123Label(f)) > 0:
			errs = append(errs, fmt.Errorf("%s.instanceFamilies: %q is not an instance family such as \"m7i\" or \"g5\"", field, f))
		case gpu && !isGPUFamily(f):
			errs = append(errs, fmt.Errorf("%s.instanceFamilies: %q has no NVIDIA GPU; use a family of %s", field, f, strings.Join(gpuFamilies, ", ")))
		case !gpu && isGPUFamily(f):
			errs = append(errs, fmt.Errorf("%s.instanceFamilies: %q is a GPU family; use the gpu node class for GPU pools", field, f))
		}
	}
	if p.CPULimit < 0 || p.MemoryLimitGiB < 0 || p.GPULimit < 0 {
		errs = append(errs, fmt.Errorf("%s: limits must not be negative (cpuLimit %d, memoryLimitGiB %d, gpuLimit %d)", field, p.CPULimit, p.MemoryLimitGiB, p.GPULimit))
	}
	if p.CPULimit == 0 && p.MemoryLimitGiB == 0 && p.GPULimit == 0 {
		errs = append(errs, fmt.Errorf("%s has no limit; set cpuLimit, memoryLimitGiB or gpuLimit so a runaway workload cannot launch unbounded capacity", field))
	}
	if gpu && p.GPULimit == 0 {
		errs = append(errs, fmt.Errorf("%s.gpuLimit is 0; a GPU pool needs a gpuLimit (e.g. 8) to cap spend", field))
	}
	if d, err := time.ParseDuration(p.ConsolidateAfter); err != nil || d < 0 || !karpenterDurationRe.MatchString(p.ConsolidateAfter) {
		errs = append(errs, fmt.Errorf("%s.consolidateAfter %q is not a duration such as \"30s\", \"1m\" or \"1h30m\"", field, p.ConsolidateAfter))
	}
	return errors.Join(errs...)
}

// karpenterDurationRe is the duration pattern of the karpenter.sh/v1 CRD
// (hours, minutes, seconds only).
var karpenterDurationRe = regexp.MustCompile(`^([0-9]+(s|m|h))+$`)

func validateExtraPools(pools []ExtraPool) error {
	var errs []error
	seen := map[string]bool{platform.NodeClassSystem: true, platform.NodeClassGPU: true}
	for i, p := range pools {
		field := key(fmt.Sprintf("karpenter.extraPools[%d]", i))
		if len(validation.IsDNS1123Label(p.Name)) > 0 {
			errs = append(errs, fmt.Errorf("%s.name %q is not an RFC 1123 label (lowercase letters, digits, '-', at most 63)", field, p.Name))
		} else if seen[p.Name] {
			errs = append(errs, fmt.Errorf("%s.name %q is already used; NodePool names must be unique and not \"system\" or \"gpu\"", field, p.Name))
		}
		seen[p.Name] = true
		if _, known := nodeClassDefaults[p.NodeClass]; !known {
			errs = append(errs, fmt.Errorf("%s.nodeClass %q is unknown; use \"system\" or \"gpu\"", field, p.NodeClass))
		}
		if p.ConsolidationPolicy != "WhenEmpty" && p.ConsolidationPolicy != "WhenEmptyOrUnderutilized" {
			errs = append(errs, fmt.Errorf("%s.consolidationPolicy %q is invalid; use \"WhenEmpty\" or \"WhenEmptyOrUnderutilized\"", field, p.ConsolidationPolicy))
		}
		errs = append(errs, validatePool(field, p.Pool, p.NodeClass == platform.NodeClassGPU))
	}
	return errors.Join(errs...)
}
