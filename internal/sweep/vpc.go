package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/hybrid-llm/platform/platform"
)

// What blocks a VPC's deletion after its EKS cluster is gone, and how this
// package recognises it as the cluster's:
//
//   - The cluster security group EKS creates (eks-cluster-sg-<cluster>-<id>),
//     tagged aws:eks:cluster-name=<cluster> and kubernetes.io/cluster/<cluster>=owned
//     (Amazon EKS User Guide, "View Amazon EKS security group requirements for
//     clusters"). EKS deletes it with the cluster unless a network interface
//     still uses it; then it stays, and so does the VPC.
//   - Network interfaces that outlive the cluster: those the Amazon VPC CNI
//     created and leaked (tagged cluster.k8s.amazonaws.com/name=<cluster>,
//     aws/amazon-vpc-cni-k8s v1.20.4 pkg/awsutils/awsutils.go buildENITags),
//     and the Lambda hyperplane interfaces of functions that ran in the VPC
//     with the cluster security group (the CDK kubectl handler); Lambda
//     deletes the latter itself, minutes after the last function using them
//     is gone.
//
// A VPC pass only looks inside one VPC: security groups in it with both EKS
// tags of the cluster, and network interfaces in it that carry the VPC CNI's
// cluster tag or use one of those security groups.

// KindNetworkInterface is an EC2 network interface.
const KindNetworkInterface Kind = "ec2:network-interface"

// vpcIDRE matches EC2 VPC ids.
var vpcIDRE = regexp.MustCompile(`^vpc-[0-9a-f]{8}([0-9a-f]{9})?$`)

// ValidateVpcID returns an error unless id is an EC2 VPC id.
func ValidateVpcID(id string) error {
	if !vpcIDRE.MatchString(id) {
		return fmt.Errorf("sweep: %q is not a VPC id (vpc- and 8 or 17 hexadecimal digits)", id)
	}
	return nil
}

// VPCConfig configures a VPCSweeper.
type VPCConfig struct {
	// ClusterName is the EKS cluster whose leftovers are swept. Required.
	ClusterName string
	// VpcID is the VPC the cluster ran in; nothing outside it is touched. Required.
	VpcID string
	// Region is the VPC's region (for the report). Required.
	Region string
	// EC2 is the EC2 client. Required.
	EC2 *ec2.Client
	// Logger receives one structured record per action. Default: slog.Default().
	Logger *slog.Logger
	// PollInterval is the pause between passes in Sweep. Default: 10s.
	PollInterval time.Duration
}

// VPCSweeper deletes what keeps a cluster's VPC from being deleted once the
// cluster is gone: the cluster's available network interfaces and its
// cluster security group. Create it with NewVPC.
type VPCSweeper struct {
	s     *Sweeper
	vpcID string
}

// NewVPC validates cfg and returns a VPCSweeper.
func NewVPC(cfg VPCConfig) (*VPCSweeper, error) {
	if err := checkTarget(cfg.ClusterName, cfg.Region); err != nil {
		return nil, err
	}
	if err := ValidateVpcID(cfg.VpcID); err != nil {
		return nil, err
	}
	if cfg.EC2 == nil {
		return nil, errors.New("sweep: the EC2 client is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	log := withAttrs(cfg.Logger, "cluster", cfg.ClusterName, "region", cfg.Region, "vpc", cfg.VpcID)
	return &VPCSweeper{
		s: &Sweeper{cfg: Config{ClusterName: cfg.ClusterName, Region: cfg.Region, EC2: cfg.EC2,
			PollInterval: cfg.PollInterval}, log: log},
		vpcID: cfg.VpcID,
	}, nil
}

// Sweep runs passes until nothing is left, a pass finds a problem that
// waiting will not fix, or ctx is done (see Sweeper.Sweep).
func (v *VPCSweeper) Sweep(ctx context.Context) Report {
	return sweepLoop(ctx, v.s.log, v.s.cfg.PollInterval, v.Pass)
}

// Pass deletes the cluster's available network interfaces in the VPC, then
// its cluster security groups that no network interface uses any more, and
// reports what is still there. Interfaces in use (a Lambda hyperplane
// interface, one attached to an instance) and interfaces another service
// manages are waited for, never detached or deleted.
func (v *VPCSweeper) Pass(ctx context.Context) Report {
	p := &vpcPass{pass: &pass{s: v.s, ctx: ctx,
		rep: Report{Cluster: v.s.cfg.ClusterName, Region: v.s.cfg.Region, VpcID: v.vpcID}}, vpcID: v.vpcID}
	groups, ok := p.clusterSecurityGroups()
	if !ok {
		return p.rep
	}
	p.networkInterfaces(groups)
	for _, g := range groups {
		p.securityGroup(g)
	}
	return p.rep
}

// vpcPass is one VPC pass.
type vpcPass struct {
	*pass
	vpcID string
}

func (p *vpcPass) isClusterSecurityGroup(g ec2types.SecurityGroup) bool {
	owned, _ := ec2Tag(g.Tags, platform.ClusterOwnedTag(p.cluster()))
	return aws.ToString(g.VpcId) == p.vpcID && ec2TagValue(g.Tags, platform.TagEKSClusterSecurityGroup) == p.cluster() && owned == "owned"
}

// clusterSecurityGroups lists the cluster security groups of the cluster in
// the VPC. ok is false when they could not be listed.
func (p *vpcPass) clusterSecurityGroups() (groups []ec2types.SecurityGroup, ok bool) {
	pg := ec2.NewDescribeSecurityGroupsPaginator(p.s.cfg.EC2, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{
			filter("vpc-id", p.vpcID),
			filter("tag:"+platform.TagEKSClusterSecurityGroup, p.cluster()),
			filter("tag:"+platform.ClusterOwnedTag(p.cluster()), "owned"),
		},
	})
	for pg.HasMorePages() {
		out, err := pg.NextPage(p.ctx)
		if err != nil {
			p.listFailed(KindSecurityGroup, err)
			return nil, false
		}
		for _, g := range out.SecurityGroups {
			if p.isClusterSecurityGroup(g) {
				groups = append(groups, g)
			}
		}
	}
	sort.Slice(groups, func(i, j int) bool { return aws.ToString(groups[i].GroupId) < aws.ToString(groups[j].GroupId) })
	return groups, true
}

// interfaces lists the network interfaces in the VPC that carry the VPC
// CNI's tag of the cluster or use one of groups, by id.
func (p *vpcPass) interfaces(groups []ec2types.SecurityGroup) (map[string]ec2types.NetworkInterface, error) {
	ids := make([]string, 0, len(groups))
	for _, g := range groups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	queries := [][]ec2types.Filter{{filter("vpc-id", p.vpcID), filter("tag:"+platform.TagCNICluster, p.cluster())}}
	if len(ids) > 0 {
		queries = append(queries, []ec2types.Filter{filter("vpc-id", p.vpcID), filter("group-id", ids...)})
	}
	found := map[string]ec2types.NetworkInterface{}
	for _, q := range queries {
		pg := ec2.NewDescribeNetworkInterfacesPaginator(p.s.cfg.EC2, &ec2.DescribeNetworkInterfacesInput{Filters: q})
		for pg.HasMorePages() {
			out, err := pg.NextPage(p.ctx)
			if err != nil {
				return nil, err
			}
			for _, n := range out.NetworkInterfaces {
				if p.isClusterInterface(n, ids) {
					found[aws.ToString(n.NetworkInterfaceId)] = n
				}
			}
		}
	}
	return found, nil
}

func (p *vpcPass) isClusterInterface(n ec2types.NetworkInterface, groupIDs []string) bool {
	if aws.ToString(n.VpcId) != p.vpcID {
		return false
	}
	if v, _ := ec2Tag(n.TagSet, platform.TagCNICluster); v == p.cluster() {
		return true
	}
	for _, g := range n.Groups {
		for _, id := range groupIDs {
			if aws.ToString(g.GroupId) == id {
				return true
			}
		}
	}
	return false
}

// networkInterfaces deletes the cluster's available network interfaces and
// reports the others as remaining.
func (p *vpcPass) networkInterfaces(groups []ec2types.SecurityGroup) {
	found, err := p.interfaces(groups)
	if err != nil {
		p.listFailed(KindNetworkInterface, err)
		return
	}
	for _, id := range sortedKeys(found) {
		n := found[id]
		r := Resource{Kind: KindNetworkInterface, ID: id, Name: aws.ToString(n.Description)}
		switch {
		case aws.ToBool(n.RequesterManaged):
			// Lambda (interface type "lambda") and other services delete
			// the interfaces they manage themselves.
			p.remain(r, fmt.Sprintf("%s (interface type %s, managed by %s); waiting for that service to delete it",
				n.Status, n.InterfaceType, aws.ToString(n.RequesterId)), nil)
		case n.Status != ec2types.NetworkInterfaceStatusAvailable:
			p.remain(r, fmt.Sprintf("%s%s; waiting until it is available", n.Status, attachedTo(n)), nil)
		default:
			_, err := p.s.cfg.EC2.DeleteNetworkInterface(p.ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
			if err != nil && !isNotFound(err) {
				p.remain(r, "delete failed", err)
				continue
			}
			p.deleted(r)
		}
	}
}

func attachedTo(n ec2types.NetworkInterface) string {
	if n.Attachment == nil {
		return ""
	}
	if id := aws.ToString(n.Attachment.InstanceId); id != "" {
		return " (attached to " + id + ")"
	}
	if o := aws.ToString(n.Attachment.InstanceOwnerId); o != "" {
		return " (attached by " + o + ")"
	}
	return ""
}

// securityGroup deletes the cluster security group g once no network
// interface uses it.
func (p *vpcPass) securityGroup(g ec2types.SecurityGroup) {
	id := aws.ToString(g.GroupId)
	r := Resource{Kind: KindSecurityGroup, ID: id, Name: aws.ToString(g.GroupName)}
	out, err := p.s.cfg.EC2.DescribeNetworkInterfaces(p.ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{filter("group-id", id)},
	})
	if err != nil {
		p.remain(r, "listing its network interfaces failed", err)
		return
	}
	var held []string
	for _, n := range out.NetworkInterfaces {
		for _, ng := range n.Groups {
			if aws.ToString(ng.GroupId) == id {
				held = append(held, aws.ToString(n.NetworkInterfaceId))
				break
			}
		}
	}
	if len(held) > 0 {
		sort.Strings(held)
		p.remain(r, "in use by network interfaces "+strings.Join(held, ", "), nil)
		return
	}
	_, err = p.s.cfg.EC2.DeleteSecurityGroup(p.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
	if err != nil && !isNotFound(err) {
		reason := "delete failed"
		if errorCode(err) == "DependencyViolation" {
			reason += referencedBy(p.pass, id)
		}
		p.remain(r, reason, err)
		return
	}
	p.deleted(r)
}
