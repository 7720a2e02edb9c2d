package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/hybrid-llm/platform/platform"
)

// drive runs one lifecycle event like the Provider framework: onEvent, then
// isComplete until complete (only when onEvent asked for it).
func drive(t *testing.T, h *handler, req map[string]any) (map[string]any, error) {
	t.Helper()
	ctx := context.Background()
	onEvent, err := invoke(t, h, ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s onEvent: %w", req["RequestType"], err)
	}
	if onEvent[PhaseField] != phaseIsComplete {
		return onEvent, nil
	}
	for range 5 {
		callCtx, cancel := context.WithTimeout(ctx, time.Minute)
		resp, err := invoke(t, h, callCtx, isCompleteRequest(req, onEvent))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s isComplete: %w", req["RequestType"], err)
		}
		if resp["IsComplete"] == true {
			return onEvent, nil
		}
	}
	return nil, fmt.Errorf("%s: not complete after 5 isComplete calls", req["RequestType"])
}

// TestSpotRoleLifecycleAgainstMoto: in a fresh account Create makes the EC2
// Spot service-linked role; in an account that has it (a second stack, an
// update) Create and Update succeed; Delete leaves it.
func TestSpotRoleLifecycleAgainstMoto(t *testing.T) {
	moto := sharedMoto(t)
	lambdaEnv(t, moto.URL, moto.URL)
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	iamc := iam.NewFromConfig(cfg)
	spotRoles := func() int {
		out, err := iamc.ListRoles(context.Background(), &iam.ListRolesInput{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range out.Roles {
			if aws.ToString(r.Path) == platform.SpotRolePath {
				n++
			}
		}
		return n
	}
	h, err := newHandler(slog.New(slog.NewJSONHandler(logWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	req := func(requestType, physicalID string) map[string]any {
		r := cfnRequest(requestType, "alpha", physicalID)
		r["ResourceType"] = platform.SpotRoleType
		r["ResourceProperties"] = map[string]any{"ServiceToken": "arn:x", "AWSServiceName": platform.SpotServiceName}
		return r
	}
	steps := []struct {
		name, requestType, created string
	}{
		{"fresh account: Create makes the role", "Create", "true"},
		{"role exists: Create (another stack) succeeds", "Create", "false"},
		{"role exists: Update succeeds", "Update", "false"},
		{"Delete keeps the role", "Delete", ""},
	}
	for _, st := range steps {
		resp, err := drive(t, h, req(st.requestType, platform.SpotRoleName))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if resp["PhysicalResourceId"] != platform.SpotRoleName {
			t.Errorf("%s: PhysicalResourceId %v", st.name, resp["PhysicalResourceId"])
		}
		if st.created != "" {
			if data, _ := resp["Data"].(map[string]any); data["Created"] != st.created {
				t.Errorf("%s: Data %v, want Created=%s", st.name, resp["Data"], st.created)
			}
		}
		if n := spotRoles(); n != 1 {
			t.Errorf("%s: %d spot service-linked roles, want 1", st.name, n)
		}
	}
	// Anything but the spot role is refused before any call.
	bad := req("Create", "")
	bad["ResourceProperties"] = map[string]any{"AWSServiceName": "autoscaling.amazonaws.com"}
	if _, err := drive(t, h, bad); err == nil || !strings.Contains(err.Error(), `AWSServiceName is "autoscaling.amazonaws.com"; this resource only creates the role of "spot.amazonaws.com"`) {
		t.Errorf("another service: %v", err)
	}
}

// TestVPCSweeperLifecycleAgainstMoto: a Custom::VpcSweeper Delete sent while
// the network stack is being deleted removes this cluster's available
// network interfaces and cluster security group in the VPC; another
// cluster's in the same VPC stay. A Delete in a stack update sweeps nothing.
func TestVPCSweeperLifecycleAgainstMoto(t *testing.T) {
	moto := sharedMoto(t)
	proxy := newCFNProxy(t, moto.URL)
	lambdaEnv(t, moto.URL, proxy.URL)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(moto.URL))
	if err != nil {
		t.Fatal(err)
	}
	ec2c := ec2.NewFromConfig(cfg)
	cfnc := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) { o.BaseEndpoint = aws.String(moto.URL) })
	h, err := newHandler(slog.New(slog.NewJSONHandler(logWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status    string
		wantSwept bool
	}{
		{"DELETE_IN_PROGRESS", true},
		{"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", false},
	} {
		t.Run(tc.status, func(t *testing.T) {
			if err := moto.Reset(); err != nil {
				t.Fatal(err)
			}
			stack, err := cfnc.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("HybridLlmNetwork"),
				TemplateBody: aws.String(`{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`)})
			if err != nil {
				t.Fatal(err)
			}
			vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
			if err != nil {
				t.Fatal(err)
			}
			vpcID := aws.ToString(vpc.Vpc.VpcId)
			subnet, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.0.0.0/24")})
			if err != nil {
				t.Fatal(err)
			}
			tags := func(rt ec2types.ResourceType, kv ...string) []ec2types.TagSpecification {
				var ts []ec2types.Tag
				for i := 0; i < len(kv); i += 2 {
					ts = append(ts, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
				}
				return []ec2types.TagSpecification{{ResourceType: rt, Tags: ts}}
			}
			clusterSG := func(cluster string) string {
				out, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("eks-cluster-sg-" + cluster),
					Description: aws.String("EKS created security group"), VpcId: aws.String(vpcID),
					TagSpecifications: tags(ec2types.ResourceTypeSecurityGroup, platform.TagEKSClusterSecurityGroup, cluster, platform.ClusterOwnedTag(cluster), "owned")})
				if err != nil {
					t.Fatal(err)
				}
				return aws.ToString(out.GroupId)
			}
			eni := func(cluster, sg string) string {
				out, err := ec2c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: subnet.Subnet.SubnetId,
					Groups: []string{sg}, Description: aws.String("aws-K8S-i-0" + cluster),
					TagSpecifications: tags(ec2types.ResourceTypeNetworkInterface, platform.TagCNICluster, cluster)})
				if err != nil {
					t.Fatal(err)
				}
				return aws.ToString(out.NetworkInterface.NetworkInterfaceId)
			}
			alphaSG, betaSG := clusterSG("alpha"), clusterSG("beta")
			alphaENI, betaENI := eni("alpha", alphaSG), eni("beta", betaSG)

			proxy.mu.Lock()
			proxy.status = tc.status
			proxy.mu.Unlock()
			req := func(requestType, physicalID string) map[string]any {
				r := cfnRequest(requestType, "alpha", physicalID)
				r["ResourceType"] = platform.VPCSweeperType
				r["StackId"] = aws.ToString(stack.StackId)
				r["ResourceProperties"] = map[string]any{"ServiceToken": "arn:x", "ClusterName": "alpha", "VpcId": vpcID}
				return r
			}
			created, err := drive(t, h, req("Create", ""))
			if err != nil || created["PhysicalResourceId"] != "vpc-sweeper-alpha" {
				t.Fatalf("Create: %v, %v", created, err)
			}
			if _, err := drive(t, h, req("Delete", "vpc-sweeper-alpha")); err != nil {
				t.Fatal(err)
			}

			var left []string
			enis, err := ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range enis.NetworkInterfaces {
				left = append(left, aws.ToString(n.NetworkInterfaceId))
			}
			sgs, err := ec2c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
				{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range sgs.SecurityGroups {
				if aws.ToString(g.GroupName) != "default" {
					left = append(left, aws.ToString(g.GroupId))
				}
			}
			want := []string{alphaENI, alphaSG, betaENI, betaSG}
			if tc.wantSwept {
				want = []string{betaENI, betaSG}
			}
			sort.Strings(left)
			sort.Strings(want)
			if !slices.Equal(left, want) {
				t.Errorf("left in moto: %v, want %v", left, want)
			}
		})
	}
}
