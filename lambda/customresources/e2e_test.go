package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/hybrid-llm/platform/internal/testing/motoserver"
)

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// cfnProxy stands between the function and moto for CloudFormation only
// (AWS_ENDPOINT_URL_CLOUDFORMATION): it forwards every call, records the
// StackName of each DescribeStacks, and can answer DescribeStacks with an
// error or rewrite the stack status in moto's answer. moto 5.2.1 deletes a
// stack synchronously (DELETE_IN_PROGRESS is never observable) and its
// custom resources do not call back, so the statuses CloudFormation shows
// while it sends a Delete are injected; the stack itself is real.
type cfnProxy struct {
	URL string
	mu  sync.Mutex
	// status, when set, replaces the StackStatus in DescribeStacks answers.
	status string
	// failures answers that many DescribeStacks calls with errorCode.
	failures  int
	errorCode string
	names     []string
}

var stackStatusRE = regexp.MustCompile(`<StackStatus>[^<]*</StackStatus>`)

const describeStacks = "cloudformation/DescribeStacks"

func newCFNProxy(t *testing.T, motoURL string) *cfnProxy {
	t.Helper()
	p := &cfnProxy{}
	mp := motoserver.NewProxy(t, motoURL, func(_, action string, _ int) (string, int, bool) {
		if action != "DescribeStacks" {
			return "", 0, false
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.failures == 0 {
			return "", 0, false
		}
		p.failures--
		if p.errorCode == "Throttling" {
			return p.errorCode, http.StatusBadRequest, true
		}
		return p.errorCode, http.StatusForbidden, true
	})
	mp.Observe = func(key string, form url.Values) {
		if key == describeStacks {
			p.mu.Lock()
			p.names = append(p.names, form.Get("StackName"))
			p.mu.Unlock()
		}
	}
	mp.Respond = func(key string, body []byte) []byte {
		p.mu.Lock()
		status := p.status
		p.mu.Unlock()
		if status == "" || key != describeStacks {
			return body
		}
		return stackStatusRE.ReplaceAll(body, []byte("<StackStatus>"+status+"</StackStatus>"))
	}
	p.URL = mp.URL
	return p
}

// TestLifecycleAgainstMoto runs the function as Lambda would (newHandler, the
// SDK's default configuration from the environment) against moto on
// 127.0.0.1, through a Create and a Delete driven like the Provider
// framework: onEvent, then isComplete until it says complete. The Delete's
// StackId is a real stack in moto; only a sweep while that stack is going
// away removes the cluster's tagged instance and load balancer.
func TestLifecycleAgainstMoto(t *testing.T) {
	moto := sharedMoto(t)
	proxy := newCFNProxy(t, moto.URL)
	lambdaEnv(t, moto.URL, proxy.URL)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(moto.URL))
	if err != nil {
		t.Fatal(err)
	}
	ec2c, elbc := ec2.NewFromConfig(cfg), elb.NewFromConfig(cfg)
	cfnc := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) { o.BaseEndpoint = aws.String(moto.URL) })
	h, err := newHandler(slog.New(slog.NewJSONHandler(logWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tag := func(k, v string) ec2types.Tag { return ec2types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	template := func(topics ...string) *string {
		res := []string{}
		for _, n := range topics {
			res = append(res, fmt.Sprintf(`%q:{"Type":"AWS::SNS::Topic"}`, n))
		}
		return aws.String(`{"Resources":{` + strings.Join(res, ",") + `}}`)
	}

	tests := []struct {
		name string
		// update updates the stack in moto before the Delete.
		update bool
		// status replaces moto's stack status; "" keeps it.
		status string
		// failures DescribeStacks calls are answered with errorCode.
		failures  int
		errorCode string
		wantCalls int
		wantSwept bool
		wantErr   string
	}{
		{name: "stack being deleted: sweeps", status: "DELETE_IN_PROGRESS", wantCalls: 1, wantSwept: true},
		{name: "failed creation rolled back: sweeps", status: "ROLLBACK_IN_PROGRESS", wantCalls: 1, wantSwept: true},
		{name: "throttled DescribeStacks is retried: sweeps", status: "DELETE_IN_PROGRESS", failures: 2, errorCode: "Throttling",
			wantCalls: 3, wantSwept: true},
		{name: "stack created (moto CREATE_COMPLETE): no sweep", wantCalls: 1},
		{name: "stack updated (moto UPDATE_COMPLETE): no sweep", update: true, wantCalls: 1},
		{name: "update removes or replaces the sweeper: no sweep", status: "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", wantCalls: 1},
		{name: "update rolled back: no sweep", status: "UPDATE_ROLLBACK_IN_PROGRESS", wantCalls: 1},
		{name: "DescribeStacks denied: fails without sweeping", status: "DELETE_IN_PROGRESS", failures: 1, errorCode: "AccessDenied",
			wantCalls: 1, wantErr: "is being deleted: operation error CloudFormation: DescribeStacks, https response error StatusCode: 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := moto.Reset(); err != nil {
				t.Fatal(err)
			}
			stack, err := cfnc.CreateStack(ctx, &cloudformation.CreateStackInput{
				StackName: aws.String("HybridLlmAddons"), TemplateBody: template("Topic")})
			if err != nil {
				t.Fatal(err)
			}
			stackID := aws.ToString(stack.StackId)
			if tt.update {
				if _, err := cfnc.UpdateStack(ctx, &cloudformation.UpdateStackInput{
					StackName: aws.String(stackID), TemplateBody: template("Topic", "Other")}); err != nil {
					t.Fatal(err)
				}
			}
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
			nodeLB := lb("k8s-alpha", "alpha")
			otherLB := lb("k8s-beta", "beta")

			proxy.mu.Lock()
			proxy.status, proxy.failures, proxy.errorCode, proxy.names = tt.status, tt.failures, tt.errorCode, nil
			proxy.mu.Unlock()

			lifecycle := func(requestType, physicalID string) (string, error) {
				req := cfnRequest(requestType, "alpha", physicalID)
				req["StackId"] = stackID
				onEvent, err := invoke(t, h, ctx, req)
				if err != nil {
					return "", fmt.Errorf("%s onEvent: %w", requestType, err)
				}
				for i := 0; i < 5; i++ {
					callCtx, cancel := context.WithTimeout(ctx, time.Minute)
					resp, err := invoke(t, h, callCtx, isCompleteRequest(req, onEvent))
					cancel()
					if err != nil {
						return "", fmt.Errorf("%s isComplete: %w", requestType, err)
					}
					if resp["IsComplete"] == true {
						return onEvent["PhysicalResourceId"].(string), nil
					}
				}
				return "", fmt.Errorf("%s: not complete after 5 isComplete calls", requestType)
			}
			id, err := lifecycle("Create", "")
			if err != nil || id != "sweeper-alpha" {
				t.Fatalf("Create: physical id %q, %v", id, err)
			}
			got, err := lifecycle("Delete", id)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "sweeper: not sweeping") {
					t.Errorf("Delete error = %v\nwant one containing %q and %q", err, "sweeper: not sweeping", tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case got != id:
				t.Errorf("Delete changed the physical id to %q", got)
			}
			proxy.mu.Lock()
			names := proxy.names
			proxy.mu.Unlock()
			if len(names) != tt.wantCalls {
				t.Errorf("DescribeStacks called %d times, want %d (once per Delete, plus retries of throttling)", len(names), tt.wantCalls)
			}
			for _, n := range names {
				if n != stackID {
					t.Errorf("DescribeStacks StackName = %q, want the stack's ARN %s", n, stackID)
				}
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
			wantNode := ec2types.InstanceStateNameRunning
			wantLBs := []string{nodeLB, otherLB}
			if tt.wantSwept {
				wantNode = ec2types.InstanceStateNameTerminated
				wantLBs = []string{otherLB}
			}
			if states[node] != wantNode || states[other] != ec2types.InstanceStateNameRunning {
				t.Errorf("instance states %v, want %s %s and %s running", states, node, wantNode, other)
			}
			lbs, err := elbc.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
			if err != nil {
				t.Fatal(err)
			}
			var gotLBs []string
			for _, l := range lbs.LoadBalancers {
				gotLBs = append(gotLBs, aws.ToString(l.LoadBalancerArn))
			}
			if strings.Join(gotLBs, " ") != strings.Join(wantLBs, " ") {
				t.Errorf("load balancers left: %v, want %v", gotLBs, wantLBs)
			}
		})
	}
}
