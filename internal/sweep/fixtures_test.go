package sweep

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/hybrid-llm/platform/platform"
)

// world creates real resources in moto (through moto directly, not through a
// fault-injecting proxy) and lists what is left.
type world struct {
	t       *testing.T
	c       clients
	ctx     context.Context
	vpc     string
	subnets []string
	ami     string
	n       int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, c: newClients(t, moto.URL), ctx: context.Background()}
	vpcs, err := w.c.EC2.DescribeVpcs(w.ctx, &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{filter("is-default", "true")},
	})
	if err != nil || len(vpcs.Vpcs) == 0 {
		t.Fatalf("default VPC: %v", err)
	}
	w.vpc = aws.ToString(vpcs.Vpcs[0].VpcId)
	subnets, err := w.c.EC2.DescribeSubnets(w.ctx, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{filter("vpc-id", w.vpc)},
	})
	if err != nil || len(subnets.Subnets) < 2 {
		t.Fatalf("default subnets: %v", err)
	}
	for _, s := range subnets.Subnets[:2] {
		w.subnets = append(w.subnets, aws.ToString(s.SubnetId))
	}
	images, err := w.c.EC2.DescribeImages(w.ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("an AMI: %v", err)
	}
	w.ami = aws.ToString(images.Images[0].ImageId)
	return w
}

func (w *world) name(prefix string) string {
	w.n++
	return fmt.Sprintf("%s-%d", prefix, w.n)
}

func ec2Tags(tags map[string]string) []ec2types.Tag {
	keys := sortedKeys(tags)
	out := make([]ec2types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func (w *world) must(err error, what string) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("creating %s: %v", what, err)
	}
}

func (w *world) instance(tags map[string]string) string {
	w.t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(w.ami), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeM7iXlarge, SubnetId: aws.String(w.subnets[0])}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ec2Tags(tags)}}
	}
	out, err := w.c.EC2.RunInstances(w.ctx, in)
	w.must(err, "instance")
	return aws.ToString(out.Instances[0].InstanceId)
}

func (w *world) launchTemplate(tags map[string]string) string {
	w.t.Helper()
	in := &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(w.name("karpenter.k8s.aws/lt")),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.ami)},
	}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: ec2Tags(tags)}}
	}
	out, err := w.c.EC2.CreateLaunchTemplate(w.ctx, in)
	w.must(err, "launch template")
	return aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}

// instanceProfile creates a profile at path holding a new role, tagged as
// Karpenter v1.14.1 tags its profiles (EC2NodeClass.InstanceProfileTags).
func (w *world) instanceProfile(path, cluster string) string {
	w.t.Helper()
	name := w.name(cluster)
	role := w.name("KarpenterNodeRole")
	_, err := w.c.IAM.CreateRole(w.ctx, &iam.CreateRoleInput{RoleName: aws.String(role),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	w.must(err, "role")
	_, err = w.c.IAM.CreateInstanceProfile(w.ctx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String(name), Path: aws.String(path),
		Tags: []iamtypes.Tag{
			{Key: aws.String(platform.ClusterOwnedTag(cluster)), Value: aws.String("owned")},
			{Key: aws.String(platform.TagEKSClusterName), Value: aws.String(cluster)},
			{Key: aws.String(platform.TagNodeClass), Value: aws.String("default")},
			{Key: aws.String("topology.kubernetes.io/region"), Value: aws.String(testRegion)},
		}})
	w.must(err, "instance profile")
	_, err = w.c.IAM.AddRoleToInstanceProfile(w.ctx, &iam.AddRoleToInstanceProfileInput{
		InstanceProfileName: aws.String(name), RoleName: aws.String(role)})
	w.must(err, "role in instance profile")
	return name
}

func elbTags(tags map[string]string) []elbtypes.Tag {
	var out []elbtypes.Tag
	for _, k := range sortedKeys(tags) {
		out = append(out, elbtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func (w *world) loadBalancer(tags map[string]string) string {
	w.t.Helper()
	out, err := w.c.ELB.CreateLoadBalancer(w.ctx, &elb.CreateLoadBalancerInput{
		Name: aws.String(w.name("k8s-lb")), Subnets: w.subnets, Tags: elbTags(tags)})
	w.must(err, "load balancer")
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

func (w *world) targetGroup(tags map[string]string) string {
	w.t.Helper()
	out, err := w.c.ELB.CreateTargetGroup(w.ctx, &elb.CreateTargetGroupInput{
		Name: aws.String(w.name("k8s-tg")), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(w.vpc), Tags: elbTags(tags)})
	w.must(err, "target group")
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

// listener makes lb forward to tg: moto then refuses to delete tg
// (ResourceInUse) while lb exists, as AWS does.
func (w *world) listener(lb, tg string) {
	w.t.Helper()
	_, err := w.c.ELB.CreateListener(w.ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(lb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}})
	w.must(err, "listener")
}

func (w *world) securityGroup(tags map[string]string) string {
	w.t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(w.name("k8s-sg")), Description: aws.String("test"),
		VpcId: aws.String(w.vpc)}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: ec2Tags(tags)}}
	}
	out, err := w.c.EC2.CreateSecurityGroup(w.ctx, in)
	w.must(err, "security group")
	return aws.ToString(out.GroupId)
}

// clusterSet is what the controllers of one cluster leave behind.
type clusterSet struct {
	Instances, LaunchTemplates, InstanceProfiles, LoadBalancers, TargetGroups, SecurityGroups []string
}

// leftovers creates, for cluster, what Karpenter v1.14.1 and the Load
// Balancer Controller would leave: two nodes, a launch template (and one of
// an older Karpenter), an instance profile with its role, a load balancer
// whose listener uses a target group, and the controller's security group.
func (w *world) leftovers(cluster string) clusterSet {
	w.t.Helper()
	nodeTags := map[string]string{
		platform.ClusterOwnedTag(cluster): "owned",
		platform.TagNodePool:              "gpu",
		platform.TagNodeClass:             "gpu",
		platform.TagEKSClusterName:        cluster,
	}
	elbTag := map[string]string{platform.TagELBCluster: cluster, "elbv2.k8s.aws/resource": "LoadBalancer"}
	var s clusterSet
	s.Instances = []string{w.instance(nodeTags), w.instance(nodeTags)}
	s.LaunchTemplates = []string{w.launchTemplate(nodeTags), w.launchTemplate(map[string]string{platform.TagLegacyLaunchTemplateCluster: cluster})}
	s.InstanceProfiles = []string{w.instanceProfile(InstanceProfilePath(testRegion, cluster)+"5f1c3a2e-uid/", cluster)}
	lb := w.loadBalancer(elbTag)
	tg := w.targetGroup(elbTag)
	w.listener(lb, tg)
	s.LoadBalancers, s.TargetGroups = []string{lb}, []string{tg}
	s.SecurityGroups = []string{w.securityGroup(map[string]string{platform.TagELBCluster: cluster, "elbv2.k8s.aws/resource": "backend-sg"})}
	return s
}

// live lists what exists now, per kind (instances: not terminated; security
// groups: not the default one).
func (w *world) live() clusterSet {
	w.t.Helper()
	var s clusterSet
	ins, err := w.c.EC2.DescribeInstances(w.ctx, &ec2.DescribeInstancesInput{})
	w.must(err, "listing instances")
	for _, r := range ins.Reservations {
		for _, i := range r.Instances {
			if i.State.Name != ec2types.InstanceStateNameTerminated {
				s.Instances = append(s.Instances, aws.ToString(i.InstanceId))
			}
		}
	}
	lts, err := w.c.EC2.DescribeLaunchTemplates(w.ctx, &ec2.DescribeLaunchTemplatesInput{})
	w.must(err, "listing launch templates")
	for _, lt := range lts.LaunchTemplates {
		s.LaunchTemplates = append(s.LaunchTemplates, aws.ToString(lt.LaunchTemplateId))
	}
	ips, err := w.c.IAM.ListInstanceProfiles(w.ctx, &iam.ListInstanceProfilesInput{})
	w.must(err, "listing instance profiles")
	for _, ip := range ips.InstanceProfiles {
		s.InstanceProfiles = append(s.InstanceProfiles, aws.ToString(ip.InstanceProfileName))
	}
	lbs, err := w.c.ELB.DescribeLoadBalancers(w.ctx, &elb.DescribeLoadBalancersInput{})
	w.must(err, "listing load balancers")
	for _, lb := range lbs.LoadBalancers {
		s.LoadBalancers = append(s.LoadBalancers, aws.ToString(lb.LoadBalancerArn))
	}
	tgs, err := w.c.ELB.DescribeTargetGroups(w.ctx, &elb.DescribeTargetGroupsInput{})
	w.must(err, "listing target groups")
	for _, tg := range tgs.TargetGroups {
		s.TargetGroups = append(s.TargetGroups, aws.ToString(tg.TargetGroupArn))
	}
	sgs, err := w.c.EC2.DescribeSecurityGroups(w.ctx, &ec2.DescribeSecurityGroupsInput{})
	w.must(err, "listing security groups")
	for _, g := range sgs.SecurityGroups {
		if aws.ToString(g.GroupName) != "default" {
			s.SecurityGroups = append(s.SecurityGroups, aws.ToString(g.GroupId))
		}
	}
	return s.sorted()
}

func (s clusterSet) sorted() clusterSet {
	for _, l := range []*[]string{&s.Instances, &s.LaunchTemplates, &s.InstanceProfiles, &s.LoadBalancers, &s.TargetGroups, &s.SecurityGroups} {
		sort.Strings(*l)
		if *l == nil {
			*l = []string{}
		}
	}
	return s
}

// plus returns the union of the sets.
func union(sets ...clusterSet) clusterSet {
	var u clusterSet
	for _, s := range sets {
		u.Instances = append(u.Instances, s.Instances...)
		u.LaunchTemplates = append(u.LaunchTemplates, s.LaunchTemplates...)
		u.InstanceProfiles = append(u.InstanceProfiles, s.InstanceProfiles...)
		u.LoadBalancers = append(u.LoadBalancers, s.LoadBalancers...)
		u.TargetGroups = append(u.TargetGroups, s.TargetGroups...)
		u.SecurityGroups = append(u.SecurityGroups, s.SecurityGroups...)
	}
	return u.sorted()
}

// allowFrom adds to group an ingress rule from the security group source
// (port 80) and one from a CIDR (port 443).
func (w *world) allowFrom(group, source string) {
	w.t.Helper()
	_, err := w.c.EC2.AuthorizeSecurityGroupIngress(w.ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(group),
		IpPermissions: []ec2types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
				UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(source)}}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
				IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}},
		},
	})
	w.must(err, "ingress rules")
}

// ingress describes group's ingress rules as "port:source" strings.
func (w *world) ingress(group string) []string {
	w.t.Helper()
	out, err := w.c.EC2.DescribeSecurityGroupRules(w.ctx, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{filter("group-id", group)},
	})
	w.must(err, "listing rules")
	var rules []string
	for _, r := range out.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) {
			continue
		}
		src := aws.ToString(r.CidrIpv4)
		if r.ReferencedGroupInfo != nil {
			src = aws.ToString(r.ReferencedGroupInfo.GroupId)
		}
		rules = append(rules, fmt.Sprintf("%d:%s", aws.ToInt32(r.FromPort), src))
	}
	sort.Strings(rules)
	return rules
}
