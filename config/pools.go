package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/hybrid-llm/platform/platform"
)

// nodeClassDefaults are what every pool on a node class starts from: the
// default pool of that class and every extra pool naming it inherit the
// labels, taints, instance sizes, disruption budget and (default pools only,
// extra pools set their own) consolidation policy.
var nodeClassDefaults = map[string]platform.NodePool{
	platform.NodeClassSystem: {
		NodeClass:           platform.NodeClassSystem,
		InstanceSizes:       []string{"xlarge", "2xlarge"},
		Labels:              map[string]string{platform.LabelPurpose: platform.PurposeSystem},
		ConsolidationPolicy: "WhenEmptyOrUnderutilized",
		DisruptionBudget:    "10%",
	},
	platform.NodeClassGPU: {
		NodeClass: platform.NodeClassGPU,
		Labels:    map[string]string{platform.LabelPurpose: platform.PurposeGPU, platform.LabelGPUPresent: "true"},
		Taints:    []platform.Taint{platform.GPUTaint},
		// A node holding a loaded model is never bin-packed away, and one
		// GPU node is disrupted at a time.
		ConsolidationPolicy: "WhenEmpty",
		DisruptionBudget:    "1",
	},
}

// newPool returns the pool named name on nodeClass with the tunable values of
// c, starting from a deep copy of the class defaults (no slice or map is
// shared between pools).
func newPool(name, nodeClass string, c Pool) platform.NodePool {
	base := nodeClassDefaults[nodeClass]
	return platform.NodePool{
		Name:                name,
		NodeClass:           nodeClass,
		CapacityTypes:       append([]string(nil), c.CapacityTypes...),
		InstanceFamilies:    append([]string(nil), c.InstanceFamilies...),
		InstanceSizes:       append([]string(nil), base.InstanceSizes...),
		Labels:              maps.Clone(base.Labels),
		Taints:              append([]platform.Taint(nil), base.Taints...),
		CPULimit:            c.CPULimit,
		MemoryLimitGiB:      c.MemoryLimitGiB,
		GPULimit:            c.GPULimit,
		ConsolidationPolicy: base.ConsolidationPolicy,
		ConsolidateAfter:    c.ConsolidateAfter,
		DisruptionBudget:    base.DisruptionBudget,
	}
}

// nodePools derives the NodePools of k: the default system and gpu pools,
// then each extra pool on its node class's defaults with its own
// consolidation policy, its labels added (overriding a class label of the
// same key) and its taints appended. It reports the extra pools' taints and
// labels that are invalid; the rest of k is checked by validatePool and
// validateExtraPools.
func nodePools(k Karpenter) ([]platform.NodePool, error) {
	pools := []platform.NodePool{
		newPool(platform.NodeClassSystem, platform.NodeClassSystem, k.SystemPool),
		newPool(platform.NodeClassGPU, platform.NodeClassGPU, k.GPUPool),
	}
	var errs []error
	for i, extra := range k.ExtraPools {
		field := key(fmt.Sprintf("karpenter.extraPools[%d]", i))
		if _, known := nodeClassDefaults[extra.NodeClass]; !known {
			continue // validateExtraPools reports it
		}
		p := newPool(extra.Name, extra.NodeClass, extra.Pool)
		p.ConsolidationPolicy = extra.ConsolidationPolicy
		for _, k := range slices.Sorted(maps.Keys(extra.Labels)) {
			if err := validateLabel(k, extra.Labels[k]); err != nil {
				errs = append(errs, fmt.Errorf("%s.labels: %w", field, err))
			}
			p.Labels[k] = extra.Labels[k]
		}
		for _, s := range extra.Taints {
			t, err := ParseTaint(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.taints: %w", field, err))
				continue
			}
			p.Taints = append(p.Taints, t)
		}
		pools = append(pools, p)
	}
	return pools, errors.Join(errs...)
}

// validateLabel checks a node label as the API server would
// (k8s.io/apimachinery: a qualified name as key, a label value as value).
func validateLabel(k, value string) error {
	if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
		return fmt.Errorf("key %q is not a Kubernetes label key: %s", k, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsValidLabelValue(value); len(msgs) > 0 {
		return fmt.Errorf("%s=%q is not a Kubernetes label value: %s", k, value, strings.Join(msgs, "; "))
	}
	return nil
}

// taintRe is the "key=value:Effect" (or "key:Effect") form of
// karpenter.extraPools[].taints.
var taintRe = regexp.MustCompile(`^([a-zA-Z0-9./_-]+)(=([a-zA-Z0-9._-]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$`)

// ParseTaint parses a "key=value:Effect" (or "key:Effect") taint, the form
// karpenter.extraPools[].taints takes.
func ParseTaint(s string) (platform.Taint, error) {
	m := taintRe.FindStringSubmatch(s)
	if m == nil {
		return platform.Taint{}, fmt.Errorf("%q is not \"key=value:Effect\" with Effect NoSchedule, PreferNoSchedule or NoExecute", s)
	}
	return platform.Taint{Key: m[1], Value: m[3], Effect: m[4]}, nil
}
