// Package karpenter holds the AWS side of Karpenter that lives outside its
// Helm charts, as in terraform-aws-eks modules/karpenter:
//
//   - ControllerPolicyDocument: the official controller IAM policy of a pinned
//     Karpenter version, kept as upstream data (policies/controller-policy-<version>.json,
//     taken from the getting-started CloudFormation template of
//     aws/karpenter-provider-aws at that version's tag) and rendered at synth
//     with the partition, region, account, cluster name, node role and
//     interruption queue of the deployment.
//   - NodeRole: the IAM role of the nodes Karpenter launches, joined to the
//     cluster by an EC2_LINUX access entry.
//   - InterruptionQueue: the SQS queue and EventBridge rules through which
//     Karpenter learns about spot interruptions, rebalance recommendations,
//     instance state changes, capacity-reservation interruptions and AWS
//     Health events.
//
// New composes them with the controller's IAM role (IRSA or EKS Pod Identity,
// through irsarole) and the karpenter-crd and karpenter Helm releases.
package karpenter
