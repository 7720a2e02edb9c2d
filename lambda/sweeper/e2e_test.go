package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/hybrid-llm/platform/internal/motoserver"
)

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestLifecycleAgainstMoto runs the function as Lambda would (newHandler, the
// SDK's default configuration from the environment) against moto on
// 127.0.0.1, through a Create and a Delete driven like the Provider
// framework: onEvent, then isComplete until it says complete.
func TestLifecycleAgainstMoto(t *testing.T) {
	moto, err := motoserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            moto.URL,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-west-2",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"HTTP_PROXY":                  "",
		"HTTPS_PROXY":                 "",
		"NO_PROXY":                    "127.0.0.1",
		"SWEEP_POLL_SECONDS":          "1",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ec2c, elbc := ec2.NewFromConfig(cfg), elb.NewFromConfig(cfg)

	images, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("an AMI: %v", err)
	}
	run := func(tags ...ec2types.Tag) string {
		out, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	tag := func(k, v string) ec2types.Tag { return ec2types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	node := run(tag("kubernetes.io/cluster/alpha", "owned"), tag("karpenter.sh/nodepool", "gpu"))
	other := run(tag("kubernetes.io/cluster/beta", "owned"), tag("karpenter.sh/nodepool", "gpu"))
	subnets, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil || len(subnets.Subnets) < 2 {
		t.Fatalf("subnets: %v", err)
	}
	lb := func(name, cluster string) string {
		out, err := elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name),
			Subnets: []string{*subnets.Subnets[0].SubnetId, *subnets.Subnets[1].SubnetId},
			Tags:    []elbtypes.Tag{{Key: aws.String("elbv2.k8s.aws/cluster"), Value: aws.String(cluster)}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	}
	lb("k8s-alpha", "alpha")
	otherLB := lb("k8s-beta", "beta")

	h, err := newHandler(slog.New(slog.NewJSONHandler(logWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	lifecycle := func(requestType, physicalID string) string {
		req := cfnRequest(requestType, "alpha", physicalID)
		onEvent, err := invoke(t, h, ctx, req)
		if err != nil {
			t.Fatalf("%s onEvent: %v", requestType, err)
		}
		for i := 0; i < 5; i++ {
			callCtx, cancel := context.WithTimeout(ctx, time.Minute)
			resp, err := invoke(t, h, callCtx, isCompleteRequest(req, onEvent))
			cancel()
			if err != nil {
				t.Fatalf("%s isComplete: %v", requestType, err)
			}
			if resp["IsComplete"] == true {
				return onEvent["PhysicalResourceId"].(string)
			}
		}
		t.Fatalf("%s: not complete after 5 isComplete calls", requestType)
		return ""
	}
	id := lifecycle("Create", "")
	if id != "sweeper-alpha" {
		t.Errorf("physical id %q", id)
	}
	if got := lifecycle("Delete", id); got != id {
		t.Errorf("Delete changed the physical id to %q", got)
	}

	ins, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{node, other}})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]ec2types.InstanceStateName{}
	for _, r := range ins.Reservations {
		for _, i := range r.Instances {
			states[aws.ToString(i.InstanceId)] = i.State.Name
		}
	}
	if states[node] != ec2types.InstanceStateNameTerminated || states[other] != ec2types.InstanceStateNameRunning {
		t.Errorf("instance states %v, want %s terminated and %s running", states, node, other)
	}
	lbs, err := elbc.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lbs.LoadBalancers) != 1 || aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn) != otherLB {
		t.Errorf("load balancers left: %+v, want only %s", lbs.LoadBalancers, otherLB)
	}
}
