package sweep

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/hybrid-llm/platform/platform"
)

// vpcWorld is a VPC with one subnet in moto.
type vpcWorld struct {
	*world
	vpcID, subnet string
}

func (w *world) newVPC(cidr string) vpcWorld {
	w.t.Helper()
	v, err := w.c.EC2.CreateVpc(w.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	w.must(err, "VPC")
	id := aws.ToString(v.Vpc.VpcId)
	s, err := w.c.EC2.CreateSubnet(w.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(id),
		CidrBlock: aws.String(strings.Replace(cidr, "0.0/16", "0.0/24", 1))})
	w.must(err, "subnet")
	return vpcWorld{world: w, vpcID: id, subnet: aws.ToString(s.Subnet.SubnetId)}
}

// clusterSG creates the security group EKS creates for cluster, with its tags.
func (v vpcWorld) clusterSG(cluster string) string {
	v.t.Helper()
	return v.sg("eks-cluster-sg-"+cluster, map[string]string{
		platform.TagEKSClusterSecurityGroup: cluster, platform.ClusterOwnedTag(cluster): "owned", "Name": "eks-cluster-sg-" + cluster})
}

func (v vpcWorld) sg(name string, tags map[string]string) string {
	v.t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(v.name(name)), Description: aws.String("test"), VpcId: aws.String(v.vpcID)}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: ec2Tags(tags)}}
	}
	out, err := v.c.EC2.CreateSecurityGroup(v.ctx, in)
	v.must(err, "security group")
	return aws.ToString(out.GroupId)
}

// eni creates an (available) network interface in the VPC's subnet.
func (v vpcWorld) eni(description string, groups []string, tags map[string]string) string {
	v.t.Helper()
	in := &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(v.subnet), Description: aws.String(description), Groups: groups}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeNetworkInterface, Tags: ec2Tags(tags)}}
	}
	out, err := v.c.EC2.CreateNetworkInterface(v.ctx, in)
	v.must(err, "network interface")
	return aws.ToString(out.NetworkInterface.NetworkInterfaceId)
}

// attach puts eni on a new instance in the VPC: it is then in-use.
func (v vpcWorld) attach(eni string) string {
	v.t.Helper()
	out, err := v.c.EC2.RunInstances(v.ctx, &ec2.RunInstancesInput{ImageId: aws.String(v.ami), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeM7iXlarge, SubnetId: aws.String(v.subnet)})
	v.must(err, "instance")
	a, err := v.c.EC2.AttachNetworkInterface(v.ctx, &ec2.AttachNetworkInterfaceInput{DeviceIndex: aws.Int32(1),
		InstanceId: out.Instances[0].InstanceId, NetworkInterfaceId: aws.String(eni)})
	v.must(err, "attachment")
	return aws.ToString(a.AttachmentId)
}

// vpcLive lists the network interfaces and non-default security groups of
// every VPC, except what RunInstances created for its instances.
func (w *world) vpcLive() (enis, sgs []string) {
	w.t.Helper()
	ns, err := w.c.EC2.DescribeNetworkInterfaces(w.ctx, &ec2.DescribeNetworkInterfacesInput{})
	w.must(err, "listing network interfaces")
	for _, n := range ns.NetworkInterfaces {
		if n.Attachment == nil || aws.ToInt32(n.Attachment.DeviceIndex) != 0 {
			enis = append(enis, aws.ToString(n.NetworkInterfaceId))
		}
	}
	gs, err := w.c.EC2.DescribeSecurityGroups(w.ctx, &ec2.DescribeSecurityGroupsInput{})
	w.must(err, "listing security groups")
	for _, g := range gs.SecurityGroups {
		if aws.ToString(g.GroupName) != "default" {
			sgs = append(sgs, aws.ToString(g.GroupId))
		}
	}
	sort.Strings(enis)
	sort.Strings(sgs)
	return enis, sgs
}

func newVPCSweeper(t *testing.T, c clients, cluster, vpc string) *VPCSweeper {
	t.Helper()
	s, err := NewVPC(VPCConfig{ClusterName: cluster, VpcID: vpc, Region: testRegion, EC2: c.EC2,
		Logger: newSweeper(t, c, cluster).log, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sortedCopy(ss ...[]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s...)
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestVPCSweepDeletesOnlyThisClusterInThisVPC: in the cluster's VPC the
// cluster security group of alpha and the interfaces that are alpha's (VPC
// CNI tag, or alpha's cluster security group) go; everything of another
// cluster in the same VPC, alpha-tagged things in another VPC, untagged ones
// and near misses stay.
func TestVPCSweepDeletesOnlyThisClusterInThisVPC(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.newVPC("10.1.0.0/16")
	b := w.newVPC("10.2.0.0/16")

	alphaSG := a.clusterSG("alpha")
	mineENIs := []string{
		a.eni("aws-K8S-i-0123456789abcdef0", []string{alphaSG}, map[string]string{platform.TagCNICluster: "alpha", "node.k8s.amazonaws.com/instance_id": "i-0123456789abcdef0"}),
		a.eni("AWS Lambda VPC ENI-HybridLlmCluster-Handler", []string{alphaSG}, nil),
		// Tagged by the CNI of alpha, on another group.
		a.eni("aws-K8S-i-0fedcba9876543210", []string{a.sg("node", nil)}, map[string]string{platform.TagCNICluster: "alpha"}),
	}
	betaSG := a.clusterSG("beta")
	untaggedSG := a.sg("plain", nil)
	keepSGs := []string{
		betaSG, untaggedSG,
		a.clusterSG("alphabet"),
		// Only one of the two EKS tags.
		a.sg("half", map[string]string{platform.TagEKSClusterSecurityGroup: "alpha"}),
		a.sg("half", map[string]string{platform.ClusterOwnedTag("alpha"): "owned"}),
		// alpha's marks in another VPC.
		b.clusterSG("alpha"),
	}
	keepENIs := []string{
		a.eni("aws-K8S-i-beta", []string{betaSG}, map[string]string{platform.TagCNICluster: "beta"}),
		a.eni("plain", []string{untaggedSG}, nil),
		a.eni("aws-K8S-i-alphabet", []string{untaggedSG}, map[string]string{platform.TagCNICluster: "alphabet"}),
		b.eni("aws-K8S-i-other-vpc", []string{keepSGs[5]}, map[string]string{platform.TagCNICluster: "alpha"}),
	}
	_, allSGs := w.vpcLive()

	rep := newVPCSweeper(t, w.c, "alpha", a.vpcID).Sweep(ctxTimeout(t, 30*time.Second))
	if !rep.Done() {
		t.Fatalf("sweep not done: %v", rep.Err())
	}
	if got := kinds(rep.Deleted); got[KindNetworkInterface] != 3 || got[KindSecurityGroup] != 1 {
		t.Errorf("deleted %v, want 3 network interfaces and 1 security group", rep.Deleted)
	}
	enis, sgs := w.vpcLive()
	wantSGs := []string{}
	for _, g := range allSGs {
		if g != alphaSG {
			wantSGs = append(wantSGs, g)
		}
	}
	if !reflect.DeepEqual(nonNil(enis), sortedCopy(keepENIs)) {
		t.Errorf("network interfaces left:\n got %v\nwant %v (deleted should be %v)", enis, sortedCopy(keepENIs), mineENIs)
	}
	if !reflect.DeepEqual(nonNil(sgs), wantSGs) {
		t.Errorf("security groups left:\n got %v\nwant %v", sgs, wantSGs)
	}
	for _, g := range keepSGs {
		if !contains(sgs, g) {
			t.Errorf("security group %s of another cluster, VPC or untagged was deleted", g)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestVPCSweepWaitsForInterfacesInUse: an interface in use (as a Lambda
// hyperplane interface is until Lambda releases it) is never deleted; the
// cluster security group waits for it, and the report at the deadline names
// both. Once it is available, the next sweep finishes.
func TestVPCSweepWaitsForInterfacesInUse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.newVPC("10.1.0.0/16")
	sg := a.clusterSG("alpha")
	eni := a.eni("AWS Lambda VPC ENI-kubectl", []string{sg}, nil)
	attachment := a.attach(eni)

	s := newVPCSweeper(t, w.c, "alpha", a.vpcID)
	rep := s.Sweep(ctxTimeout(t, 3*time.Second))
	if rep.Done() || rep.Permanent() || !rep.TimedOut {
		t.Fatalf("want a timed-out, not permanent report, got done=%v permanent=%v timedOut=%v: %v", rep.Done(), rep.Permanent(), rep.TimedOut, rep.Err())
	}
	msg := rep.Err().Error()
	for _, want := range []string{
		`sweep of cluster "alpha" in us-west-2 ` + a.vpcID + `: 2 resource(s) remain at the deadline`,
		"ec2:network-interface " + eni + " (AWS Lambda VPC ENI-kubectl): in-use (attached to i-",
		"ec2:security-group " + sg + " (eks-cluster-sg-alpha-",
		"in use by network interfaces " + eni,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	if len(rep.Deleted) != 0 {
		t.Errorf("deleted %v while the interface was in use", rep.Deleted)
	}

	_, err := w.c.EC2.DetachNetworkInterface(w.ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(attachment)})
	w.must(err, "detaching")
	rep = s.Sweep(ctxTimeout(t, 30*time.Second))
	if !rep.Done() {
		t.Fatalf("sweep not done after the interface was released: %v", rep.Err())
	}
	if enis, sgs := w.vpcLive(); len(enis) != 0 || len(sgs) != 0 {
		t.Errorf("left: network interfaces %v, security groups %v", enis, sgs)
	}
}

// TestVPCSweepLeavesRequesterManagedInterfaces: an available interface
// that a service manages (a Lambda hyperplane interface; moto cannot create
// one, so the proxy marks a real interface requester-managed in every
// listing) is never deleted: Lambda removes it itself. The cluster security
// group waits for it, and the report says why.
func TestVPCSweepLeavesRequesterManagedInterfaces(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.newVPC("10.1.0.0/16")
	sg := a.clusterSG("alpha")
	eni := a.eni("AWS Lambda VPC ENI-kubectl", []string{sg}, nil)
	p := newProxy(t, noFault)
	p.Respond = func(key string, body []byte) []byte {
		if key != "ec2/DescribeNetworkInterfaces" {
			return body
		}
		s := string(body)
		i := strings.Index(s, "<networkInterfaceId>"+eni+"</networkInterfaceId>")
		if i < 0 {
			return body
		}
		// moto writes the fields of an interface in alphabetical order:
		// interfaceType before the id, requesterManaged after it.
		before, after := s[:i], s[i:]
		if j := strings.LastIndex(before, "<interfaceType>interface</interfaceType>"); j >= 0 {
			before = before[:j] + "<interfaceType>lambda</interfaceType>" + before[j+len("<interfaceType>interface</interfaceType>"):]
		}
		after = strings.Replace(after, "<requesterManaged>false</requesterManaged>", "<requesterManaged>true</requesterManaged>", 1)
		return []byte(before + after)
	}
	rep := newVPCSweeper(t, newClients(t, p.URL), "alpha", a.vpcID).Sweep(ctxTimeout(t, 3*time.Second))
	if rep.Done() || rep.Permanent() || len(rep.Deleted) != 0 {
		t.Fatalf("done=%v permanent=%v deleted=%v, want a wait with nothing deleted: %v", rep.Done(), rep.Permanent(), rep.Deleted, rep.Err())
	}
	msg := rep.Err().Error()
	for _, want := range []string{
		"ec2:network-interface " + eni + " (AWS Lambda VPC ENI-kubectl): available (interface type lambda, managed by ",
		"); waiting for that service to delete it",
		"ec2:security-group " + sg + " (eks-cluster-sg-alpha-",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	if enis, _ := w.vpcLive(); !contains(enis, eni) {
		t.Errorf("the requester-managed interface %s was deleted", eni)
	}
}

// TestVPCSweepReportsFailures: a DependencyViolation on the security group
// (moto never raises it) is waited on and reported; an access denied on an
// interface is permanent and ends the sweep at once.
func TestVPCSweepReportsFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, action, code string
		permanent          bool
		want               string
	}{
		{"dependency violation", "DeleteSecurityGroup", "DependencyViolation", false, "at the deadline:\n- ec2:security-group %SG% (eks-cluster-sg-alpha-1): delete failed: operation error EC2: DeleteSecurityGroup, https response error StatusCode: 400, RequestID: proxy, api error DependencyViolation"},
		{"access denied", "DeleteNetworkInterface", "UnauthorizedOperation", true, "cannot be deleted without help:\n- ec2:network-interface %ENI% (aws-K8S-i-1): delete failed: operation error EC2: DeleteNetworkInterface, https response error StatusCode: 400, RequestID: proxy, api error UnauthorizedOperation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			a := w.newVPC("10.1.0.0/16")
			sg := a.clusterSG("alpha")
			eni := a.eni("aws-K8S-i-1", nil, map[string]string{platform.TagCNICluster: "alpha"})
			p := newProxy(t, func(service, action string, _ int) (string, int, bool) {
				return tc.code, 400, action == tc.action
			})
			rep := newVPCSweeper(t, newClients(t, p.URL), "alpha", a.vpcID).Sweep(ctxTimeout(t, 3*time.Second))
			if rep.Done() || rep.Permanent() != tc.permanent {
				t.Fatalf("done=%v permanent=%v, want not done, permanent=%v: %v", rep.Done(), rep.Permanent(), tc.permanent, rep.Err())
			}
			want := strings.NewReplacer("%SG%", sg, "%ENI%", eni).Replace(tc.want)
			if msg := rep.Err().Error(); !strings.Contains(msg, want) {
				t.Errorf("report lacks %q:\n%s", want, msg)
			}
			if tc.permanent && rep.Passes != 1 {
				t.Errorf("a permanent failure took %d passes, want 1", rep.Passes)
			}
		})
	}
}

func TestNewVPCRejectsBadConfig(t *testing.T) {
	t.Parallel()
	c := newClients(t, moto.URL)
	for _, tc := range []struct {
		name string
		cfg  VPCConfig
		want string
	}{
		{"cluster", VPCConfig{ClusterName: "-x", VpcID: "vpc-0123456789abcdef0", Region: testRegion, EC2: c.EC2}, `cluster name "-x" is not a valid EKS cluster name`},
		{"vpc", VPCConfig{ClusterName: "alpha", VpcID: "vpc-xyz", Region: testRegion, EC2: c.EC2}, `"vpc-xyz" is not a VPC id`},
		{"empty vpc", VPCConfig{ClusterName: "alpha", Region: testRegion, EC2: c.EC2}, `"" is not a VPC id`},
		{"region", VPCConfig{ClusterName: "alpha", VpcID: "vpc-01234567", Region: "mars", EC2: c.EC2}, `region "mars" is not a valid AWS region name`},
		{"client", VPCConfig{ClusterName: "alpha", VpcID: "vpc-01234567", Region: testRegion}, "the EC2 client is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewVPC(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewVPC: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
