// Package karpenterpools renders Karpenter v1 EC2NodeClasses and NodePools
// (karpenter.k8s.aws/v1 and karpenter.sh/v1, as served by Karpenter 1.14)
// from typed Go values into awseksv2.KubernetesManifest resources in the
// caller's stack.
//
// The types mirror the upstream API field for field (only the fields this
// platform uses); DefaultEC2NodeClasses gives the platform's `system` and
// `gpu` node classes and RenderNodePool renders the pools config derives
// (platform.NodePool); Validate checks what the CRDs cannot
// know (Kubernetes version vs AMI family, references between objects,
// limits); New creates one manifest per object, each depending on the
// Karpenter charts so that CloudFormation deletes NodePools and
// EC2NodeClasses while the controller still runs and can drain and
// terminate their nodes.
//
// Upstream: https://github.com/aws/karpenter-provider-aws tag v1.14.1,
// pkg/apis/v1 (EC2NodeClass) and sigs.k8s.io/karpenter pkg/apis/v1 (NodePool);
// the CRDs in testdata/crds are the schema the tests validate against.
package karpenterpools
