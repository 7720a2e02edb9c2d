// Package platform is the one home of hybrid-llm-platform's vocabulary: the
// node labels and taint workloads select, the tag keys the platform and its
// controllers put on AWS resources, the node role's managed policies, the
// controllers' replica default, the pinned add-on versions and the NodePool
// model that config derives and karpenterpools renders.
//
// It is a plain-Go leaf: no jsii, no AWS SDK, no other package of this
// module. The synth app, the constructs and the sweeper Lambda all import it,
// so a label, tag key or version is defined here once.
package platform
