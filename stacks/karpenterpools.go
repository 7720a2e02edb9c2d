package stacks

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/constructs/karpenterpools"
)

// nodePools turns the Karpenter configuration into NodePools: the default
// system and gpu pools with the configured capacity types, families, limits
// and consolidation delay, then the user's extra pools, each starting from
// the default pool of its node class.
func nodePools(k config.Karpenter) []karpenterpools.NodePool {
	byName := map[string]karpenterpools.NodePool{}
	for _, p := range karpenterpools.DefaultNodePools() {
		byName[p.Metadata.Name] = p
	}
	system := tunePool(byName[karpenterpools.SystemPool], k.SystemPool)
	gpu := tunePool(byName[karpenterpools.GPUPool], k.GpuPool)
	pools := []karpenterpools.NodePool{system, gpu}

	for _, extra := range k.ExtraPools {
		base := byName[karpenterpools.SystemPool]
		if extra.NodeClass == karpenterpools.GPUPool {
			base = byName[karpenterpools.GPUPool]
		}
		p := tunePool(clonePool(base), extra.Pool)
		p.Metadata.Name = extra.Name
		p.Spec.Disruption.ConsolidationPolicy = extra.ConsolidationPolicy
		labels := maps.Clone(p.Spec.Template.Metadata.Labels)
		maps.Copy(labels, extra.Labels)
		p.Spec.Template.Metadata.Labels = labels
		for _, t := range extra.Taints {
			p.Spec.Template.Spec.Taints = append(p.Spec.Template.Spec.Taints, parseTaint(t))
		}
		pools = append(pools, p)
	}
	return pools
}

// tunePool applies the configured knobs of one pool to a copy of p.
func tunePool(p karpenterpools.NodePool, c config.Pool) karpenterpools.NodePool {
	p = clonePool(p)
	reqs := p.Spec.Template.Spec.Requirements
	for i := range reqs {
		switch reqs[i].Key {
		case karpenterpools.LabelCapacityType:
			reqs[i].Values = append([]string(nil), c.CapacityTypes...)
		case karpenterpools.LabelInstanceFamily:
			reqs[i].Values = append([]string(nil), c.InstanceFamilies...)
		}
	}
	limits := map[string]string{}
	if c.CPULimit > 0 {
		limits["cpu"] = strconv.Itoa(c.CPULimit)
	}
	if c.MemoryLimitGiB > 0 {
		limits["memory"] = strconv.Itoa(c.MemoryLimitGiB) + "Gi"
	}
	if c.GPULimit > 0 {
		limits[karpenterpools.ResourceGPU] = strconv.Itoa(c.GPULimit)
	}
	p.Spec.Limits = limits
	p.Spec.Disruption.ConsolidateAfter = c.ConsolidateAfter
	return p
}

// clonePool deep-copies the parts of a NodePool that tuning changes.
func clonePool(p karpenterpools.NodePool) karpenterpools.NodePool {
	reqs := make([]karpenterpools.NodeSelectorRequirement, len(p.Spec.Template.Spec.Requirements))
	for i, r := range p.Spec.Template.Spec.Requirements {
		r.Values = append([]string(nil), r.Values...)
		reqs[i] = r
	}
	p.Spec.Template.Spec.Requirements = reqs
	p.Spec.Template.Spec.Taints = append([]karpenterpools.Taint(nil), p.Spec.Template.Spec.Taints...)
	meta := *p.Spec.Template.Metadata
	meta.Labels = maps.Clone(meta.Labels)
	p.Spec.Template.Metadata = &meta
	d := *p.Spec.Disruption
	d.Budgets = append([]karpenterpools.Budget(nil), d.Budgets...)
	p.Spec.Disruption = &d
	p.Spec.Limits = maps.Clone(p.Spec.Limits)
	return p
}

// parseTaint converts a taint that config.Validate has already checked.
func parseTaint(s string) karpenterpools.Taint {
	t, err := config.ParseTaint(s)
	if err != nil {
		panic(fmt.Sprintf("stacks: %v (config.Validate should have rejected it)", err))
	}
	return karpenterpools.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect}
}
