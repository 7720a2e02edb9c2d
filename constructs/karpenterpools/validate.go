package karpenterpools

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/hybrid-llm/platform/platform"
)

// lastAL2Minor is the last Kubernetes minor version with EKS-optimized Amazon
// Linux 2 AMIs: AWS publishes no AL2 AMIs for Kubernetes 1.33 and later.
const lastAL2Minor = 32

var (
	kubernetesVersionRE = regexp.MustCompile(`^1\.([0-9]+)$`)
)

// Validate checks what the Karpenter CRDs cannot know about a set of node
// classes and pools meant for a cluster of the given Kubernetes version
// ("1.35"): AMI families that have no AMIs for that version, names that are
// invalid or used twice, NodePools referring to node classes that are not in
// the set, NodePools without limits (unbounded spend) or without an explicit
// disruption.consolidateAfter, and alias terms not pinned to a release.
// Values that are CDK tokens (role, security group id) are not inspected.
// It returns all problems joined; each names the object, field, value and
// what is allowed.
func Validate(kubernetesVersion string, classes []EC2NodeClass, pools []NodePool) error {
	var errs []error
	m := kubernetesVersionRE.FindStringSubmatch(kubernetesVersion)
	if m == nil {
		return fmt.Errorf("karpenterpools: kubernetes version %q: must be 1.<minor>, e.g. \"1.35\"", kubernetesVersion)
	}
	minor, _ := strconv.Atoi(m[1])

	classNames := map[string]bool{}
	for i, c := range classes {
		where := fmt.Sprintf("ec2NodeClasses[%d] %q", i, c.Metadata.Name)
		errs = append(errs, validateName(where, c.Metadata.Name, classNames)...)
		errs = append(errs, validateAMI(where, c.Spec, minor)...)
	}
	poolNames := map[string]bool{}
	for i, p := range pools {
		where := fmt.Sprintf("nodePools[%d] %q", i, p.Metadata.Name)
		errs = append(errs, validateName(where, p.Metadata.Name, poolNames)...)
		ref := p.Spec.Template.Spec.NodeClassRef
		if ref.Group != EC2NodeClassGroup || ref.Kind != EC2NodeClassKind {
			errs = append(errs, fmt.Errorf("%s: spec.template.spec.nodeClassRef %s/%s: must be group %q kind %q", where, ref.Group, ref.Kind, EC2NodeClassGroup, EC2NodeClassKind))
		} else if !classNames[ref.Name] {
			errs = append(errs, fmt.Errorf("%s: spec.template.spec.nodeClassRef.name %q: no such EC2NodeClass, want one of %s", where, ref.Name, quoted(classNames)))
		}
		if len(p.Spec.Limits) == 0 {
			errs = append(errs, fmt.Errorf("%s: spec.limits: must be set (e.g. cpu, memory, %s): a pool without limits can launch instances without bound", where, platform.ResourceGPU))
		}
		if p.Spec.Disruption == nil || p.Spec.Disruption.ConsolidateAfter == "" {
			errs = append(errs, fmt.Errorf("%s: spec.disruption.consolidateAfter: must be set (e.g. \"30s\", \"Never\"); the upstream default 0s consolidates immediately", where))
		}
	}
	return errors.Join(errs...)
}

func validateName(where, name string, seen map[string]bool) []error {
	var errs []error
	if len(validation.IsDNS1123Subdomain(name)) > 0 {
		errs = append(errs, fmt.Errorf("%s: metadata.name %q: must be a lowercase RFC 1123 subdomain", where, name))
	}
	if seen[name] {
		errs = append(errs, fmt.Errorf("%s: metadata.name %q: used twice; names must be unique", where, name))
	}
	seen[name] = true
	return errs
}

func validateAMI(where string, spec EC2NodeClassSpec, minor int) []error {
	var errs []error
	if spec.AMIFamily == "AL2" && minor > lastAL2Minor {
		errs = append(errs, fmt.Errorf("%s: spec.amiFamily %q: no Amazon Linux 2 AMIs exist for Kubernetes 1.%d (last is 1.%d); use AL2023", where, spec.AMIFamily, minor, lastAL2Minor))
	}
	for j, term := range spec.AMISelectorTerms {
		if term.Alias == "" {
			continue
		}
		family, version, _ := strings.Cut(term.Alias, "@")
		field := fmt.Sprintf("spec.amiSelectorTerms[%d].alias", j)
		if family == "al2" && minor > lastAL2Minor {
			errs = append(errs, fmt.Errorf("%s: %s %q: no Amazon Linux 2 AMIs exist for Kubernetes 1.%d (last is 1.%d); use al2023@<version>", where, field, term.Alias, minor, lastAL2Minor))
		}
		if version == "latest" && !strings.HasPrefix(family, "windows") {
			errs = append(errs, fmt.Errorf("%s: %s %q: pin an AMI release (e.g. %s@v20260714); latest replaces every node on each AMI release", where, field, term.Alias, family))
		}
	}
	return errs
}

func quoted(set map[string]bool) string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, strconv.Quote(n))
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}
