package sweep

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/hybrid-llm/platform/platform"
)

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

func ec2TagValue(tags []ec2types.Tag, key string) string {
	v, _ := ec2Tag(tags, key)
	return v
}

func ec2Tag(tags []ec2types.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}

// The server-side filters select the cluster's resources; these checks repeat
// them on what came back, so that an API (or emulator) that ignored a filter
// can never widen a sweep.

func (p *pass) isKarpenterInstance(tags []ec2types.Tag) bool {
	owned, _ := ec2Tag(tags, platform.ClusterOwnedTag(p.cluster()))
	_, pool := ec2Tag(tags, platform.TagNodePool)
	return owned == "owned" && pool
}

func (p *pass) isKarpenterLaunchTemplate(tags []ec2types.Tag) bool {
	eks, _ := ec2Tag(tags, platform.TagEKSClusterName)
	_, class := ec2Tag(tags, platform.TagNodeClass)
	legacy, _ := ec2Tag(tags, platform.TagLegacyLaunchTemplateCluster)
	return (eks == p.cluster() && class) || legacy == p.cluster()
}

func (p *pass) isControllerSecurityGroup(tags []ec2types.Tag) bool {
	v, _ := ec2Tag(tags, platform.TagELBCluster)
	return v == p.cluster()
}

// instances terminates the cluster's Karpenter instances and reports whether
// none is left in a state other than terminated.
func (p *pass) instances() bool {
	var found []ec2types.Instance
	pg := ec2.NewDescribeInstancesPaginator(p.s.cfg.EC2, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{
			filter("tag:"+platform.ClusterOwnedTag(p.cluster()), "owned"),
			filter("tag-key", platform.TagNodePool),
			// Everything but terminated: a stopped instance still holds its volumes and ENIs.
			filter("instance-state-name", "pending", "running", "shutting-down", "stopping", "stopped"),
		},
	})
	for pg.HasMorePages() {
		out, err := pg.NextPage(p.ctx)
		if err != nil {
			p.listFailed(KindInstance, err)
			return false
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				if p.isKarpenterInstance(in.Tags) && (in.State == nil || in.State.Name != ec2types.InstanceStateNameTerminated) {
					found = append(found, in)
				}
			}
		}
	}
	var toTerminate []string
	for _, in := range found {
		if in.State == nil || in.State.Name != ec2types.InstanceStateNameShuttingDown {
			toTerminate = append(toTerminate, aws.ToString(in.InstanceId))
		}
	}
	terminateErr := map[string]error{}
	if len(toTerminate) > 0 {
		if _, err := p.s.cfg.EC2.TerminateInstances(p.ctx, &ec2.TerminateInstancesInput{InstanceIds: toTerminate}); err != nil {
			// One unknown id fails the whole call: fall back to one call per
			// instance so the others still go.
			for _, id := range toTerminate {
				_, err := p.s.cfg.EC2.TerminateInstances(p.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
				if err != nil && !isNotFound(err) {
					terminateErr[id] = err
				}
			}
		}
		for _, id := range toTerminate {
			if terminateErr[id] == nil {
				p.s.log.Info("terminating", "kind", string(KindInstance), "id", id)
			}
		}
	}
	for _, in := range found {
		id := aws.ToString(in.InstanceId)
		r := Resource{Kind: KindInstance, ID: id, Name: ec2TagValue(in.Tags, platform.TagNodePool)}
		if err := terminateErr[id]; err != nil {
			p.remain(r, "terminate failed", err)
			continue
		}
		// Termination takes a minute or two; the instance is only gone once
		// a later describe no longer lists it as anything but terminated.
		state := "unknown"
		if in.State != nil {
			state = string(in.State.Name)
		}
		p.remain(r, fmt.Sprintf("terminating (state was %s)", state), nil)
	}
	return len(found) == 0
}

// launchTemplates deletes the cluster's Karpenter launch templates, or only
// lists them when wait is not empty.
func (p *pass) launchTemplates(wait string) {
	queries := [][]ec2types.Filter{
		{filter("tag:"+platform.TagEKSClusterName, p.cluster()), filter("tag-key", platform.TagNodeClass)},
		{filter("tag:"+platform.TagLegacyLaunchTemplateCluster, p.cluster())},
	}
	seen := map[string]ec2types.LaunchTemplate{}
	for _, q := range queries {
		pg := ec2.NewDescribeLaunchTemplatesPaginator(p.s.cfg.EC2, &ec2.DescribeLaunchTemplatesInput{Filters: q})
		for pg.HasMorePages() {
			out, err := pg.NextPage(p.ctx)
			if err != nil {
				p.listFailed(KindLaunchTemplate, err)
				return
			}
			for _, lt := range out.LaunchTemplates {
				if p.isKarpenterLaunchTemplate(lt.Tags) {
					seen[aws.ToString(lt.LaunchTemplateId)] = lt
				}
			}
		}
	}
	for _, id := range sortedKeys(seen) {
		r := Resource{Kind: KindLaunchTemplate, ID: id, Name: aws.ToString(seen[id].LaunchTemplateName)}
		if wait != "" {
			p.remain(r, wait, nil)
			continue
		}
		_, err := p.s.cfg.EC2.DeleteLaunchTemplate(p.ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
		if err != nil && !isNotFound(err) {
			p.remain(r, "delete failed", err)
			continue
		}
		p.deleted(r)
	}
}

// securityGroups deletes the Load Balancer Controller's security groups of
// the cluster once no network interface uses them, or only lists them when
// wait is not empty.
func (p *pass) securityGroups(wait string) {
	var groups []ec2types.SecurityGroup
	pg := ec2.NewDescribeSecurityGroupsPaginator(p.s.cfg.EC2, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{filter("tag:"+platform.TagELBCluster, p.cluster())},
	})
	for pg.HasMorePages() {
		out, err := pg.NextPage(p.ctx)
		if err != nil {
			p.listFailed(KindSecurityGroup, err)
			return
		}
		for _, g := range out.SecurityGroups {
			if p.isControllerSecurityGroup(g.Tags) {
				groups = append(groups, g)
			}
		}
	}
	sort.Slice(groups, func(i, j int) bool { return aws.ToString(groups[i].GroupId) < aws.ToString(groups[j].GroupId) })
	for _, g := range groups {
		id := aws.ToString(g.GroupId)
		r := Resource{Kind: KindSecurityGroup, ID: id, Name: aws.ToString(g.GroupName)}
		if wait != "" {
			p.remain(r, wait, nil)
			continue
		}
		// Load balancer network interfaces are released minutes after the
		// load balancer is gone; deleting before that only yields
		// DependencyViolation, so look first and say which ones hold it.
		enis, err := p.s.cfg.EC2.DescribeNetworkInterfaces(p.ctx, &ec2.DescribeNetworkInterfacesInput{
			Filters: []ec2types.Filter{filter("group-id", id)},
		})
		if err != nil {
			p.remain(r, "listing its network interfaces failed", err)
			continue
		}
		var held []string
		for _, n := range enis.NetworkInterfaces {
			for _, g := range n.Groups {
				if aws.ToString(g.GroupId) == id {
					held = append(held, fmt.Sprintf("%s (%s)", aws.ToString(n.NetworkInterfaceId), aws.ToString(n.Description)))
					break
				}
			}
		}
		if len(held) > 0 {
			p.remain(r, "in use by network interfaces "+strings.Join(held, ", "), nil)
			continue
		}
		if err := p.releaseReferences(id); err != nil {
			p.remain(r, "revoking the rules of the cluster's security groups that reference it failed", err)
			continue
		}
		_, err = p.s.cfg.EC2.DeleteSecurityGroup(p.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		if err != nil && !isNotFound(err) {
			reason := "delete failed"
			if errorCode(err) == "DependencyViolation" {
				reason += referencedBy(p, id)
			}
			p.remain(r, reason, err)
			continue
		}
		p.deleted(r)
	}
}

// releaseReferences revokes the ingress rules that reference the security
// group id in the security groups of the cluster (tag
// kubernetes.io/cluster/<cluster>, any value): the Load Balancer Controller
// adds such rules for its backend security group to the node security
// group, and while they exist id cannot be deleted (DependencyViolation).
// Such a rule only admits traffic from id, which is about to go. Rules in
// security groups without the cluster's tag are left alone and reported.
func (p *pass) releaseReferences(id string) error {
	out, err := p.s.cfg.EC2.DescribeSecurityGroups(p.ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{
			filter("ip-permission.group-id", id),
			filter("tag-key", platform.ClusterOwnedTag(p.cluster())),
		},
	})
	if err != nil {
		return err
	}
	for _, g := range out.SecurityGroups {
		gid := aws.ToString(g.GroupId)
		if _, tagged := ec2Tag(g.Tags, platform.ClusterOwnedTag(p.cluster())); gid == id || !tagged {
			continue
		}
		rules, err := p.s.cfg.EC2.DescribeSecurityGroupRules(p.ctx, &ec2.DescribeSecurityGroupRulesInput{
			Filters: []ec2types.Filter{filter("group-id", gid)},
		})
		if err != nil {
			return err
		}
		// Revoke by the rule's properties rather than its id: then only the
		// security group is the resource IAM authorizes (a rule id would add
		// the security-group-rule resource, which carries no cluster tag).
		var ids []string
		var perms []ec2types.IpPermission
		for _, rule := range rules.SecurityGroupRules {
			if aws.ToString(rule.GroupId) == gid && !aws.ToBool(rule.IsEgress) && rule.ReferencedGroupInfo != nil &&
				aws.ToString(rule.ReferencedGroupInfo.GroupId) == id {
				ids = append(ids, aws.ToString(rule.SecurityGroupRuleId))
				perms = append(perms, ec2types.IpPermission{
					IpProtocol: rule.IpProtocol, FromPort: rule.FromPort, ToPort: rule.ToPort,
					UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(id),
						UserId: rule.ReferencedGroupInfo.UserId}},
				})
			}
		}
		if len(perms) == 0 {
			continue
		}
		_, err = p.s.cfg.EC2.RevokeSecurityGroupIngress(p.ctx, &ec2.RevokeSecurityGroupIngressInput{
			GroupId: aws.String(gid), IpPermissions: perms,
		})
		if err != nil && !isNotFound(err) {
			return err
		}
		p.s.log.Info("revoked ingress rules referencing a security group", "kind", string(KindSecurityGroup),
			"id", gid, "rules", ids, "referenced", id)
	}
	return nil
}

// referencedBy names the security groups whose rules reference id (a common
// cause of DependencyViolation), for the report. Best effort.
func referencedBy(p *pass, id string) string {
	refs := map[string]bool{}
	for _, f := range []string{"ip-permission.group-id", "egress.ip-permission.group-id"} {
		out, err := p.s.cfg.EC2.DescribeSecurityGroups(p.ctx, &ec2.DescribeSecurityGroupsInput{
			Filters: []ec2types.Filter{filter(f, id)},
		})
		if err != nil {
			continue
		}
		for _, g := range out.SecurityGroups {
			if gid := aws.ToString(g.GroupId); gid != id {
				refs[gid] = true
			}
		}
	}
	if len(refs) == 0 {
		return ""
	}
	return " (rules of " + strings.Join(sortedKeys(refs), ", ") + " reference it)"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
