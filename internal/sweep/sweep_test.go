package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/hybrid-llm/platform/platform"
)

func assertLive(t *testing.T, w *world, want clusterSet) {
	t.Helper()
	got := w.live()
	want = want.sorted()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resources left in moto:\n got %+v\nwant %+v", got, want)
	}
}

func kinds(rs []Resource) map[Kind]int {
	m := map[Kind]int{}
	for _, r := range rs {
		m[r.Kind]++
	}
	return m
}

func TestSweepNothingToDelete(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Untagged resources of every kind: none of them is the cluster's.
	untagged := clusterSet{
		Instances:        []string{w.instance(nil)},
		LaunchTemplates:  []string{w.launchTemplate(nil)},
		InstanceProfiles: []string{w.instanceProfile("/", "alpha")},
		LoadBalancers:    []string{w.loadBalancer(nil)},
		TargetGroups:     []string{w.targetGroup(nil)},
		SecurityGroups:   []string{w.securityGroup(nil)},
	}
	rep := newSweeper(t, w.c, "alpha").Sweep(ctxTimeout(t, 30*time.Second))
	if !rep.Done() || rep.Err() != nil {
		t.Fatalf("sweep not done: %v", rep.Err())
	}
	if len(rep.Deleted) != 0 || rep.Passes != 1 {
		t.Errorf("deleted %v in %d passes, want nothing in 1 pass", rep.Deleted, rep.Passes)
	}
	assertLive(t, w, untagged)
}

func TestSweepDeletesOnlyThisCluster(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mine := w.leftovers("alpha")
	other := w.leftovers("beta")
	// Near misses: each carries part of the cluster's marks, or the marks of
	// a cluster whose name shares a prefix, and must survive.
	nearMiss := clusterSet{
		Instances: []string{
			// A managed node group's node: cluster tag but no NodePool.
			w.instance(map[string]string{platform.ClusterOwnedTag("alpha"): "owned"}),
			// A NodePool tag without this cluster's ownership tag.
			w.instance(map[string]string{platform.TagNodePool: "gpu", platform.ClusterOwnedTag("alphabet"): "owned"}),
			// Shared, not owned.
			w.instance(map[string]string{platform.TagNodePool: "gpu", platform.ClusterOwnedTag("alpha"): "shared"}),
		},
		LaunchTemplates: []string{
			// The EKS tag without Karpenter's EC2NodeClass tag (not Karpenter's).
			w.launchTemplate(map[string]string{platform.TagEKSClusterName: "alpha"}),
			w.launchTemplate(map[string]string{platform.TagEKSClusterName: "alphabet", platform.TagNodeClass: "gpu"}),
		},
		InstanceProfiles: []string{
			w.instanceProfile("/", "alpha"),
			w.instanceProfile("/karpenter/"+testRegion+"/alphabet/uid/", "alphabet"),
			w.instanceProfile("/karpenter/us-east-1/alpha/uid/", "alpha"),
		},
		LoadBalancers:  []string{w.loadBalancer(map[string]string{platform.TagELBCluster: "alphabet"})},
		TargetGroups:   []string{w.targetGroup(map[string]string{"ingress.k8s.aws/stack": "alpha"})},
		SecurityGroups: []string{w.securityGroup(map[string]string{platform.ClusterOwnedTag("alpha"): "owned"})},
	}

	// moto 5.2.1 ignores ListInstanceProfiles' PathPrefix and returns every
	// profile: the profiles under other clusters' and regions' paths above
	// survive only because the sweeper checks the path itself too.
	roles := func() int {
		out, err := w.c.IAM.ListRoles(w.ctx, &iam.ListRolesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Roles)
	}
	rolesBefore := roles()
	rep := newSweeper(t, w.c, "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if err := rep.Err(); err != nil {
		t.Fatalf("sweep failed: %v", err)
	}
	// Roles belong to CloudFormation: removed from the profiles, never deleted.
	if got := roles(); got != rolesBefore {
		t.Errorf("%d roles after the sweep, want %d", got, rolesBefore)
	}
	deleted := clusterSet{}
	for _, r := range rep.Deleted {
		l := map[Kind]*[]string{KindLaunchTemplate: &deleted.LaunchTemplates, KindInstanceProfile: &deleted.InstanceProfiles,
			KindLoadBalancer: &deleted.LoadBalancers, KindTargetGroup: &deleted.TargetGroups, KindSecurityGroup: &deleted.SecurityGroups}[r.Kind]
		if l == nil {
			t.Errorf("reported deleted: %v", r)
			continue
		}
		*l = append(*l, r.ID)
	}
	// Instances are not "deleted": they are terminated, and gone once listed so.
	wantDeleted := mine
	wantDeleted.Instances = nil
	if got, want := deleted.sorted(), wantDeleted.sorted(); !reflect.DeepEqual(got, want) {
		t.Errorf("reported deleted:\n got %+v\nwant %+v", got, want)
	}
	assertLive(t, w, union(other, nearMiss))
}

// TestSweepRetryAfterPartialRun: a first run stops on a permanent error
// (access denied deleting the security group, as when an IAM policy is
// wrong); something else deletes a launch template in between; the rerun
// finishes the job, and a third run finds nothing.
func TestSweepRetryAfterPartialRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mine := w.leftovers("alpha")
	other := w.leftovers("beta")

	denied := newProxy(t, func(service, action string, _ int) (string, int, bool) {
		return "UnauthorizedOperation", 403, service == "ec2" && action == "DeleteSecurityGroup"
	})
	first := newSweeper(t, newClients(t, denied.URL), "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if first.Done() || !first.Permanent() || first.TimedOut {
		t.Fatalf("first run: done=%v permanent=%v timedOut=%v, want a permanent failure", first.Done(), first.Permanent(), first.TimedOut)
	}
	wantErr := "sweep of cluster \"alpha\" in us-west-2: 5 resource(s) remain, 1 of them cannot be deleted without help:\n- ec2:security-group " +
		mine.SecurityGroups[0]
	if err := first.Err(); err == nil || !strings.HasPrefix(err.Error(), wantErr) || !strings.Contains(err.Error(), "UnauthorizedOperation") {
		t.Errorf("first run error:\n%v\nwant prefix:\n%s", err, wantErr)
	}
	assertLive(t, w, union(other, clusterSet{SecurityGroups: mine.SecurityGroups}))

	second := newSweeper(t, w.c, "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if err := second.Err(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if got := kinds(second.Deleted); got[KindSecurityGroup] != 1 || len(second.Deleted) != 1 {
		t.Errorf("second run deleted %+v, want only the security group", second.Deleted)
	}
	assertLive(t, w, other)

	third := newSweeper(t, w.c, "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if !third.Done() || len(third.Deleted) != 0 || third.Passes != 1 {
		t.Errorf("third run: %+v, want nothing to do", third)
	}
}

// TestSweepReportsWhatWillNotGo: a target group that a load balancer of
// another owner forwards to cannot be deleted (moto answers ResourceInUse,
// as AWS does), and a security group whose deletion keeps failing with
// DependencyViolation (injected: moto does not model security group
// dependencies). The sweep keeps trying until its deadline and then names
// both, with the reason.
func TestSweepReportsWhatWillNotGo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mine := w.leftovers("alpha")
	foreign := w.loadBalancer(nil)
	w.listener(foreign, mine.TargetGroups[0])
	// A second controller security group, still used by a network interface
	// (a real one in moto: the sweeper must see it and not try the delete).
	heldSG := w.securityGroup(map[string]string{platform.TagELBCluster: "alpha"})
	eni, err := w.c.EC2.CreateNetworkInterface(w.ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(w.subnets[0]), Groups: []string{heldSG}, Description: aws.String("ELB app/k8s-lb/0123"),
	})
	if err != nil {
		t.Fatal(err)
	}
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	// A security group outside the cluster whose rule references the
	// controller's group: the report names it as the likely holder.
	foreignSG := w.securityGroup(nil)
	w.allowFrom(foreignSG, mine.SecurityGroups[0])

	// The deadline arrives during the fourth attempt to delete the group
	// (one a pass): after whole passes, however fast this machine is, instead
	// of after a wall-clock budget that either ran out mid-pass under load (3
	// s) or made the test wait it out (12 s). The report is the last whole
	// pass's, as at a real deadline.
	ctx, deadline := context.WithCancel(context.Background())
	t.Cleanup(deadline)
	held := newProxy(t, func(service, action string, n int) (string, int, bool) {
		if service != "ec2" || action != "DeleteSecurityGroup" {
			return "", 0, false
		}
		if n >= 4 {
			deadline()
		}
		return "DependencyViolation", 400, true
	})
	rep := newSweeper(t, newClients(t, held.URL), "alpha").Sweep(ctx)
	if rep.Done() || rep.Permanent() || !rep.TimedOut || rep.Passes < 2 {
		t.Fatalf("done=%v permanent=%v timedOut=%v passes=%d, want a timeout after several passes",
			rep.Done(), rep.Permanent(), rep.TimedOut, rep.Passes)
	}
	err = rep.Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"sweep of cluster \"alpha\" in us-west-2: 3 resource(s) remain at the deadline:",
		"- ec2:security-group " + heldSG + " (k8s-sg-",
		"): in use by network interfaces " + eniID + " (ELB app/k8s-lb/0123)",
		"- elasticloadbalancing:targetgroup " + mine.TargetGroups[0],
		"delete failed: operation error Elastic Load Balancing v2: DeleteTargetGroup",
		"ResourceInUse",
		"- ec2:security-group " + mine.SecurityGroups[0],
		"delete failed (rules of " + foreignSG + " reference it): operation error EC2: DeleteSecurityGroup",
		"DependencyViolation",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
	if got := held.Calls("ec2/DeleteSecurityGroup"); got != held.Injected("ec2/DeleteSecurityGroup") {
		t.Errorf("DeleteSecurityGroup called %d times, %d of them for the held group", got, got-held.Injected("ec2/DeleteSecurityGroup"))
	}
	if held.Injected("ec2/DeleteSecurityGroup") < 2 {
		t.Errorf("DeleteSecurityGroup tried %d times, want retries", held.Injected("ec2/DeleteSecurityGroup"))
	}
	assertLive(t, w, clusterSet{LoadBalancers: []string{foreign}, TargetGroups: mine.TargetGroups,
		SecurityGroups: append([]string{heldSG, foreignSG}, mine.SecurityGroups...)})
}

// TestSweepRevokesClusterRulesReferencingItsSecurityGroups: the Load
// Balancer Controller lets its backend security group into the node security
// group (tagged kubernetes.io/cluster/<cluster>); the sweep revokes exactly
// that rule before deleting the backend group, and leaves the rules of
// security groups without the cluster's tag alone.
func TestSweepRevokesClusterRulesReferencingItsSecurityGroups(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mine := w.leftovers("alpha")
	backend := mine.SecurityGroups[0]
	nodeSG := w.securityGroup(map[string]string{platform.ClusterOwnedTag("alpha"): "owned"})
	w.allowFrom(nodeSG, backend)
	otherSG := w.securityGroup(nil)
	w.allowFrom(otherSG, backend)

	rep := newSweeper(t, w.c, "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if err := rep.Err(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if got, want := w.ingress(nodeSG), []string{"443:10.0.0.0/8"}; !reflect.DeepEqual(got, want) {
		t.Errorf("node security group rules = %v, want %v", got, want)
	}
	// moto keeps a rule whose source group is gone (AWS would have refused
	// the delete with DependencyViolation instead, see the next test).
	if got, want := w.ingress(otherSG), []string{"443:10.0.0.0/8", "80:" + backend}; !reflect.DeepEqual(got, want) {
		t.Errorf("untagged security group rules = %v, want %v", got, want)
	}
	assertLive(t, w, clusterSet{SecurityGroups: []string{nodeSG, otherSG}})
}

// TestSweepIgnoredFiltersDoNotWidenTheSweep: the proxy drops the filters of
// every EC2 and IAM listing, as a broken API or emulator might, so they
// return everything; the sweeper's own checks keep it to the cluster.
func TestSweepIgnoredFiltersDoNotWidenTheSweep(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.leftovers("alpha")
	other := w.leftovers("beta")
	untagged := clusterSet{
		Instances:       []string{w.instance(nil)},
		LaunchTemplates: []string{w.launchTemplate(nil)},
		SecurityGroups:  []string{w.securityGroup(nil)},
	}
	backend := w.securityGroup(map[string]string{platform.TagELBCluster: "alpha"})
	w.allowFrom(untagged.SecurityGroups[0], backend)
	px := newProxy(t, noFault)
	stripped := 0
	px.Rewrite = func(key string, form url.Values) url.Values {
		changed := false
		for k := range form {
			if strings.HasPrefix(k, "Filter.") || k == "PathPrefix" {
				delete(form, k)
				changed = true
			}
		}
		if changed {
			stripped++
			return form
		}
		return nil
	}
	rep := newSweeper(t, newClients(t, px.URL), "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if err := rep.Err(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if stripped == 0 {
		t.Fatal("the proxy stripped no filter")
	}
	if got, want := w.ingress(untagged.SecurityGroups[0]), []string{"443:10.0.0.0/8", "80:" + backend}; !reflect.DeepEqual(got, want) {
		t.Errorf("untagged security group rules = %v, want %v", got, want)
	}
	assertLive(t, w, union(other, untagged))
}

// TestSweepThrottling: the first three calls of every action are throttled;
// the SDK's retryer (NewRetryer) backs off and the sweep completes.
func TestSweepThrottling(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.leftovers("alpha")
	other := w.leftovers("beta")
	throttled := newProxy(t, func(service, action string, n int) (string, int, bool) {
		code := "Throttling"
		if service == "ec2" {
			code = "RequestLimitExceeded"
		}
		return code, 400, n <= 3
	})
	rep := newSweeper(t, newClients(t, throttled.URL), "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if err := rep.Err(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	for _, key := range []string{"ec2/TerminateInstances", "ec2/DeleteLaunchTemplate", "iam/DeleteInstanceProfile",
		"elasticloadbalancing/DeleteLoadBalancer", "elasticloadbalancing/DeleteTargetGroup", "ec2/DeleteSecurityGroup"} {
		if throttled.Injected(key) != 3 {
			t.Errorf("%s throttled %d times, want 3", key, throttled.Injected(key))
		}
	}
	assertLive(t, w, other)
}

// TestSweepEventualConsistency: deletes answered with NotFound while the
// resource still exists (what eventual consistency looks like) count as done
// for the call, but the next pass lists the resource again and finishes it.
func TestSweepEventualConsistency(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.leftovers("alpha")
	other := w.leftovers("beta")
	notFound := map[string]string{
		"ec2/TerminateInstances":                  "InvalidInstanceID.NotFound",
		"ec2/DeleteLaunchTemplate":                "InvalidLaunchTemplateId.NotFound",
		"iam/DeleteInstanceProfile":               "NoSuchEntity",
		"elasticloadbalancing/DeleteLoadBalancer": "LoadBalancerNotFound",
		"elasticloadbalancing/DescribeTags":       "LoadBalancerNotFound",
		"elasticloadbalancing/DeleteTargetGroup":  "TargetGroupNotFound",
		"ec2/DeleteSecurityGroup":                 "InvalidGroup.NotFound",
	}
	flaky := newProxy(t, func(service, action string, n int) (string, int, bool) {
		code, ok := notFound[service+"/"+action]
		return code, 400, ok && n == 1
	})
	rep := newSweeper(t, newClients(t, flaky.URL), "alpha").Sweep(ctxTimeout(t, 60*time.Second))
	if err := rep.Err(); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	for key := range notFound {
		if flaky.Injected(key) != 1 {
			t.Errorf("%s: injected %d NotFound, want 1", key, flaky.Injected(key))
		}
	}
	assertLive(t, w, other)
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	c := clients{EC2: &ec2.Client{}, ELB: nil, IAM: nil}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"empty cluster name", Config{Region: testRegion}, `sweep: cluster name "" is not a valid EKS cluster name (1-100 characters: letters, digits, '-' and '_', starting with a letter or digit)`},
		{"cluster name with a slash", Config{ClusterName: "a/b", Region: testRegion}, `sweep: cluster name "a/b" is not a valid EKS cluster name (1-100 characters: letters, digits, '-' and '_', starting with a letter or digit)`},
		{"cluster name starting with a dash", Config{ClusterName: "-a", Region: testRegion}, `sweep: cluster name "-a" is not a valid EKS cluster name (1-100 characters: letters, digits, '-' and '_', starting with a letter or digit)`},
		{"cluster name of 101 characters", Config{ClusterName: strings.Repeat("a", 101), Region: testRegion}, `sweep: cluster name "` + strings.Repeat("a", 101) + `" is not a valid EKS cluster name (1-100 characters: letters, digits, '-' and '_', starting with a letter or digit)`},
		{"bad region", Config{ClusterName: "alpha", Region: "uswest2"}, `sweep: region "uswest2" is not a valid AWS region name`},
		{"missing clients", Config{ClusterName: "alpha", Region: testRegion, EC2: c.EC2}, "sweep: EC2, ELB and IAM clients are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("New() error = %v, want %s", err, tt.wantErr)
			}
		})
	}
}

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	api := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	tests := []struct {
		name                string
		err                 error
		notFound, permanent bool
	}{
		{"instance not found", api("InvalidInstanceID.NotFound"), true, false},
		{"launch template not found", api("InvalidLaunchTemplateId.NotFound"), true, false},
		{"security group not found", api("InvalidGroup.NotFound"), true, false},
		{"iam no such entity", api("NoSuchEntity"), true, false},
		{"load balancer not found", api("LoadBalancerNotFound"), true, false},
		{"target group not found", api("TargetGroupNotFound"), true, false},
		{"dependency violation waits", api("DependencyViolation"), false, false},
		{"resource in use waits", api("ResourceInUse"), false, false},
		{"delete conflict waits", api("DeleteConflict"), false, false},
		{"access denied needs a human", api("AccessDenied"), false, true},
		{"unauthorized operation needs a human", api("UnauthorizedOperation"), false, true},
		{"deletion protection needs a human", api("OperationNotPermitted"), false, true},
		{"deadline is not permanent", context.DeadlineExceeded, false, false},
		{"wrapped", fmt.Errorf("x: %w", api("AccessDenied")), false, true},
		{"plain error", errors.New("boom"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := isNotFound(tt.err); got != tt.notFound {
				t.Errorf("isNotFound = %v, want %v", got, tt.notFound)
			}
			if got := isPermanent(tt.err); got != tt.permanent {
				t.Errorf("isPermanent = %v, want %v", got, tt.permanent)
			}
		})
	}
}
