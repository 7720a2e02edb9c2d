// Package sweep finds and deletes the AWS resources that the in-cluster
// controllers of one EKS cluster created outside CloudFormation, so that
// `cdk destroy` leaves nothing behind.
//
// What it deletes, and how it recognises that a resource belongs to the
// cluster (facts from aws/karpenter-provider-aws at tag v1.14.1 and
// kubernetes-sigs/aws-load-balancer-controller at tag v3.5.0):
//
//   - EC2 instances launched by Karpenter: tag kubernetes.io/cluster/<cluster>=owned
//     and tag key karpenter.sh/nodepool present (pkg/utils/utils.go GetTags).
//   - Launch templates created by Karpenter: tag eks:eks-cluster-name=<cluster>
//     and tag key karpenter.k8s.aws/ec2nodeclass present (same tags, put on the
//     template by pkg/providers/launchtemplate/types.go); templates of older
//     Karpenter releases carry karpenter.k8s.aws/cluster=<cluster> instead
//     (website/content/en/docs/upgrading/upgrade-guide.md) and are swept too.
//   - Instance profiles created by Karpenter: IAM path
//     /karpenter/<region>/<cluster>/<EC2NodeClass UID>/
//     (pkg/providers/instanceprofile/instanceprofile.go FormatPath,
//     pkg/controllers/nodeclass/instanceprofile.go); their role is removed first.
//   - Load balancers, target groups and security groups created by the AWS Load
//     Balancer Controller: tag elbv2.k8s.aws/cluster=<cluster>.
//
// Resources without these tags, and resources of other clusters, are never
// touched. The order is: terminate instances and wait until they are
// terminated; delete launch templates; remove roles from and delete instance
// profiles; delete load balancers and wait until they are gone; delete target
// groups; delete security groups once no network interface uses them, after
// revoking the ingress rules that reference them in the cluster's own
// security groups (tag kubernetes.io/cluster/<cluster>; the controller adds
// these for its backend security group).
//
// Every operation is idempotent (NotFound counts as deleted), so a sweep can be
// rerun after a partial run. [Sweeper.Pass] does one round of work without
// waiting; [Sweeper.Sweep] repeats passes until nothing is left or the
// context's deadline comes, and returns a [Report] naming what remains and why.
package sweep
