package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/hybrid-llm/platform/internal/refpolicy"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// dependsOnOf returns a resource's DependsOn logical ids.
func dependsOnOf(r map[string]any) []string {
	var ids []string
	switch d := r["DependsOn"].(type) {
	case string:
		ids = []string{d}
	case []any:
		for _, x := range d {
			ids = append(ids, x.(string))
		}
	}
	return ids
}

// only returns the single resource of typ in tpl, failing otherwise.
func only(t *testing.T, tpl assertions.Template, typ string) (string, map[string]any) {
	t.Helper()
	rs := cdktest.Resources(t, tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("%d %s resources, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// handlerStatements returns the statements of every inline policy attached
// (AWS::IAM::Policy Roles) to the role of the Lambda function that backs the
// custom resource r through a CDK Provider: the resource's ServiceToken is
// the provider's framework function, whose environment names the user
// function's ARN.
func handlerStatements(t *testing.T, tpl assertions.Template, r map[string]any) []map[string]any {
	t.Helper()
	fns := cdktest.Resources(t, tpl, "AWS::Lambda::Function")
	var framework map[string]any
	for id, f := range fns {
		if cdktest.Resolve(cdktest.Props(r)["ServiceToken"]) == ref(id, "Arn") {
			framework = f
		}
	}
	env, _ := cdktest.Resolve(cdktest.Props(framework)["Environment"]).(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	var handler string
	for id, f := range fns {
		for _, v := range vars {
			if v == ref(id, "Arn") && cdktest.Props(f)["Runtime"] == "provided.al2023" {
				handler = id
			}
		}
	}
	if handler == "" {
		t.Fatalf("no Go handler behind %s (environment %v)", cdktest.Props(r)["ServiceToken"], env)
	}
	// The function's Role is "${<role>.Arn}"; a policy's Roles are "${<role>}".
	role, _ := cdktest.Resolve(cdktest.Props(fns[handler])["Role"]).(string)
	role = strings.TrimSuffix(role, ".Arn}") + "}"
	var out []map[string]any
	for _, p := range cdktest.Resources(t, tpl, "AWS::IAM::Policy") {
		roles, _ := cdktest.Resolve(cdktest.Props(p)["Roles"]).([]any)
		if !slices.Contains(roles, any(role)) {
			continue
		}
		for _, s := range cdktest.Props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

// actionsOf returns the actions of one statement, sorted.
func actionsOf(s map[string]any) []string { return refpolicy.Actions([]any{s}) }

// TestSpotServiceLinkedRole: the add-ons stack ensures the EC2 Spot
// service-linked role before any NodePool, whatever sweeper.enabled says; it
// can only create that role, and the stack never deletes it.
func TestSpotServiceLinkedRole(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *synthesized
	}{
		{"defaults", defaults},
		{"sweeper.enabled=false", mustSynthesize(t, map[string]any{"hybridLlm.sweeper.enabled": "false"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := tc.s.templates[addonsStackID]
			id, r := only(t, tpl, "Custom::SpotServiceLinkedRole")
			if got := cdktest.Props(r)["AWSServiceName"]; got != "spot.amazonaws.com" {
				t.Errorf("AWSServiceName = %v", got)
			}
			if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("DeletionPolicy %v, UpdateReplacePolicy %v; want Retain: the role is account-wide", r["DeletionPolicy"], r["UpdateReplacePolicy"])
			}
			pools := 0
			for lid, m := range tc.s.manifests(t) {
				if m.kind() != "NodePool" {
					continue
				}
				pools++
				if !slices.Contains(dependsOnOf(m.Resource), id) {
					t.Errorf("NodePool manifest %s does not depend on the Spot service-linked role %s: %v", lid, id, dependsOnOf(m.Resource))
				}
			}
			if pools == 0 {
				t.Error("no NodePool manifests found")
			}
			st := handlerStatements(t, tpl, r)
			if len(st) != 1 {
				t.Fatalf("handler statements %v, want only iam:CreateServiceLinkedRole", st)
			}
			if got := actionsOf(st[0]); !slices.Equal(got, []string{"iam:CreateServiceLinkedRole"}) {
				t.Errorf("actions %v", got)
			}
			if res, want := cdktest.Resolve(st[0]["Resource"]), "arn:aws:iam::${AWS::AccountId}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"; res != want {
				t.Errorf("resource %v, want the role's ARN only: %s", res, want)
			}
			if c, want := st[0]["Condition"], map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": "spot.amazonaws.com"}}; !reflect.DeepEqual(c, want) {
				t.Errorf("condition %v, want %v", c, want)
			}
		})
	}
}

// TestNetworkVpcSweeper: the network stack's VPC sweeper is deleted before
// every subnet, names the cluster and the VPC, may delete network interfaces
// only in this VPC and only this cluster's EKS security group in it, and is
// absent with sweeper.enabled=false.
func TestNetworkVpcSweeper(t *testing.T) {
	tpl := defaults.templates[networkStackID]
	_, r := only(t, tpl, "Custom::VpcSweeper")
	vpcID, _ := only(t, tpl, "AWS::EC2::VPC")
	cluster := defaults.cfg.ClusterName
	if got := cdktest.Props(r)["ClusterName"]; got != cluster {
		t.Errorf("ClusterName = %v", got)
	}
	if got := cdktest.Resolve(cdktest.Props(r)["VpcId"]); got != ref(vpcID, "") {
		t.Errorf("VpcId = %v, want %s", got, ref(vpcID, ""))
	}
	subnets := cdktest.Resources(t, tpl, "AWS::EC2::Subnet")
	if len(subnets) == 0 {
		t.Fatal("no subnets")
	}
	for sid := range subnets {
		if !slices.Contains(dependsOnOf(r), sid) {
			t.Errorf("the VPC sweeper does not depend on subnet %s: CloudFormation could delete it first", sid)
		}
	}

	vpcArn := "arn:aws:ec2:us-west-2:${AWS::AccountId}:vpc/" + ref(vpcID, "")
	want := map[string]any{ // action -> condition
		"ec2:DeleteNetworkInterface": map[string]any{"StringEquals": map[string]any{"ec2:Vpc": vpcArn}},
		"ec2:DeleteSecurityGroup": map[string]any{"StringEquals": map[string]any{
			"aws:ResourceTag/aws:eks:cluster-name":             cluster,
			"aws:ResourceTag/kubernetes.io/cluster/" + cluster: "owned",
			"ec2:Vpc": vpcArn,
		}},
	}
	readOnly := []string{"cloudformation:DescribeStacks", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups"}
	seen := map[string]bool{}
	for _, s := range handlerStatements(t, tpl, r) {
		for _, a := range actionsOf(s) {
			seen[a] = true
			if slices.Contains(readOnly, a) {
				continue
			}
			cond, ok := want[a]
			if !ok {
				t.Errorf("unexpected action %s", a)
				continue
			}
			if got := cdktest.Resolve(s["Condition"]); !reflect.DeepEqual(got, cond) {
				t.Errorf("%s condition\n got %v\nwant %v", a, got, cond)
			}
		}
	}
	for a := range want {
		if !seen[a] {
			t.Errorf("action %s not granted", a)
		}
	}
	if got := cdktest.Resolve(handlerStatementFor(t, tpl, r, "cloudformation:DescribeStacks")["Resource"]); got != "${AWS::StackId}" {
		t.Errorf("DescribeStacks on %v, want this stack only", got)
	}

	t.Run("off when sweeper.enabled=false", func(t *testing.T) {
		s := mustSynthesize(t, map[string]any{"hybridLlm.sweeper.enabled": "false"})
		if n := len(cdktest.Resources(t, s.templates[networkStackID], "Custom::VpcSweeper")); n != 0 {
			t.Errorf("%d VPC sweepers with sweeper.enabled=false", n)
		}
	})
}

func handlerStatementFor(t *testing.T, tpl assertions.Template, r map[string]any, action string) map[string]any {
	t.Helper()
	for _, s := range handlerStatements(t, tpl, r) {
		if slices.Contains(actionsOf(s), action) {
			return s
		}
	}
	t.Fatalf("no statement grants %s", action)
	return nil
}
