package main

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
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
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("%d %s resources, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// policyStatementsOf returns the statements of every inline policy attached
// (AWS::IAM::Policy Roles) to the role of the Lambda function that backs the
// custom resource r through a CDK Provider: the resource's ServiceToken is
// the provider's framework function, whose environment names the user
// function.
func handlerStatements(t *testing.T, tpl assertions.Template, r map[string]any) []map[string]any {
	t.Helper()
	framework := props(r)["ServiceToken"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	fns := resources(tpl, "AWS::Lambda::Function")
	env := toJSON(t, props(fns[framework])["Environment"])
	var handler string
	for id, f := range fns {
		if props(f)["Runtime"] == "provided.al2023" && strings.Contains(env, `"`+id+`"`) {
			handler = id
		}
	}
	if handler == "" {
		t.Fatalf("no Go handler behind %s (environment %s)", framework, env)
	}
	role := props(fns[handler])["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	var out []map[string]any
	for _, p := range resources(tpl, "AWS::IAM::Policy") {
		if !strings.Contains(toJSON(t, props(p)["Roles"]), `"`+role+`"`) {
			continue
		}
		for _, s := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

func actionsOf(s map[string]any) []string {
	switch a := s["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			out = append(out, x.(string))
		}
		sort.Strings(out)
		return out
	}
	return nil
}

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
			if got := props(r)["AWSServiceName"]; got != "spot.amazonaws.com" {
				t.Errorf("AWSServiceName = %v", got)
			}
			if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("DeletionPolicy %v, UpdateReplacePolicy %v; want Retain: the role is account-wide", r["DeletionPolicy"], r["UpdateReplacePolicy"])
			}
			pools := 0
			for lid, m := range resources(tpl, "Custom::AWSCDK-EKS-KubernetesResource") {
				if !strings.Contains(toJSON(t, props(m)["Manifest"]), `\"kind\":\"NodePool\"`) {
					continue
				}
				pools++
				if !slices.Contains(dependsOnOf(m), id) {
					t.Errorf("NodePool manifest %s does not depend on the Spot service-linked role %s: %v", lid, id, dependsOnOf(m))
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
			if res := toJSON(t, st[0]["Resource"]); !strings.Contains(res, `:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"`) || strings.Contains(res, "*") {
				t.Errorf("resource %s, want the role's ARN only", res)
			}
			if c := toJSON(t, st[0]["Condition"]); c != `{"StringEquals":{"iam:AWSServiceName":"spot.amazonaws.com"}}` {
				t.Errorf("condition %s", c)
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
	if got := props(r)["ClusterName"]; got != cluster {
		t.Errorf("ClusterName = %v", got)
	}
	if got := toJSON(t, props(r)["VpcId"]); got != `{"Ref":"`+vpcID+`"}` {
		t.Errorf("VpcId = %s", got)
	}
	subnets := resources(tpl, "AWS::EC2::Subnet")
	if len(subnets) == 0 {
		t.Fatal("no subnets")
	}
	for sid := range subnets {
		if !slices.Contains(dependsOnOf(r), sid) {
			t.Errorf("the VPC sweeper does not depend on subnet %s: CloudFormation could delete it first", sid)
		}
	}

	vpcArn := `{"Fn::Join":["",["arn:aws:ec2:us-west-2:",{"Ref":"AWS::AccountId"},":vpc/",{"Ref":"` + vpcID + `"}]]}`
	want := map[string]string{ // action -> condition
		"ec2:DeleteNetworkInterface": `{"StringEquals":{"ec2:Vpc":` + vpcArn + `}}`,
		"ec2:DeleteSecurityGroup": `{"StringEquals":{"aws:ResourceTag/aws:eks:cluster-name":"` + cluster +
			`","aws:ResourceTag/kubernetes.io/cluster/` + cluster + `":"owned","ec2:Vpc":` + vpcArn + `}}`,
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
			if got := toJSON(t, s["Condition"]); got != cond {
				t.Errorf("%s condition\n got %s\nwant %s", a, got, cond)
			}
		}
	}
	for a := range want {
		if !seen[a] {
			t.Errorf("action %s not granted", a)
		}
	}
	if got := toJSON(t, handlerStatementFor(t, tpl, r, "cloudformation:DescribeStacks")["Resource"]); got != `{"Ref":"AWS::StackId"}` {
		t.Errorf("DescribeStacks on %s, want this stack only", got)
	}

	t.Run("off when sweeper.enabled=false", func(t *testing.T) {
		s := mustSynthesize(t, map[string]any{"hybridLlm.sweeper.enabled": "false"})
		if n := len(resources(s.templates[networkStackID], "Custom::VpcSweeper")); n != 0 {
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
