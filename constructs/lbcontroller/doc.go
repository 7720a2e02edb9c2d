// Package lbcontroller holds the AWS side of the AWS Load Balancer Controller:
// the controller's official IAM policy, kept as upstream data.
//
// The policy of each supported controller version is embedded from
// policies/iam-policy-<version>.json, a copy of docs/install/iam_policy.json of
// kubernetes-sigs/aws-load-balancer-controller at that version's tag (the file
// names its source URL). At synth the hard-coded "arn:aws:" partition is
// replaced by the AWS::Partition pseudo parameter, so the same document works
// in aws, aws-cn and aws-us-gov. (Upstream's iam_policy_cn.json and
// iam_policy_us-gov.json for v3.5.0 differ from iam_policy.json only in the
// partition and in statement order.)
//
// The CRDs of each supported controller version are embedded from
// crds/<version>/*.yaml, copies of the chart's crds/ folder at that version's
// tag (each file's header names tag and path). New applies them as manifests
// before the Helm release, which skips its own crds/: Helm installs those once
// and never upgrades them.
//
// New installs the controller: its IRSA role with that policy, the CRDs and
// the Helm release.
package lbcontroller
