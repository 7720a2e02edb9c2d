package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/hybrid-llm/platform/internal/sweep"
)

// These tests drive the handler through aws-lambda-go's JSON layer with the
// payloads the CDK Provider framework sends (aws-cdk-lib 2.223.0
// custom-resources/lib/provider-framework/runtime/framework.ts): onEvent gets
// the CloudFormation request; isComplete gets {...request, ...onEventResponse}.
// The sweep itself is tested against moto in internal/sweep; here a scripted
// sweeper stands in so that each case controls what the sweep reports.

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

type scripted struct {
	report   sweep.Report
	calls    int
	cluster  string
	deadline time.Time
}

func (s *scripted) Sweep(ctx context.Context) sweep.Report {
	s.calls++
	s.deadline, _ = ctx.Deadline()
	return s.report
}

func newTestHandler(s *scripted, now time.Time) *handler {
	return &handler{
		newSweeper: func(_ context.Context, cluster string) (sweeper, error) {
			s.cluster = cluster
			return s, nil
		},
		stackStatus: func(context.Context, string) (cfntypes.StackStatus, error) {
			return cfntypes.StackStatusDeleteInProgress, nil
		},
		now:     func() time.Time { return now },
		budget:  40 * time.Minute,
		perCall: 2 * time.Minute,
		reserve: 15 * time.Second,
		log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

func cfnRequest(requestType, cluster, physicalID string) map[string]any {
	r := map[string]any{
		"RequestType":        requestType,
		"ServiceToken":       "arn:aws:lambda:us-west-2:111111111111:function:framework-onEvent",
		"ResponseURL":        "https://cloudformation-custom-resource-response-uswest2.s3.amazonaws.com/x",
		"StackId":            "arn:aws:cloudformation:us-west-2:111111111111:stack/HybridLlmAddons/1",
		"RequestId":          "req-1",
		"LogicalResourceId":  "SweeperResource",
		"ResourceType":       "Custom::ClusterSweeper",
		"ResourceProperties": map[string]any{"ServiceToken": "arn:x", "ClusterName": cluster},
	}
	if physicalID != "" {
		r["PhysicalResourceId"] = physicalID
	}
	return r
}

// invoke sends payload through aws-lambda-go and returns the decoded response.
func invoke(t *testing.T, h *handler, ctx context.Context, payload map[string]any) (map[string]any, error) {
	t.Helper()
	in, _ := json.Marshal(payload)
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, in)
	if err != nil {
		return nil, err
	}
	var resp map[string]any
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp, nil
}

// isCompleteRequest merges an onEvent response into its request as the
// framework does (createResponseEvent).
func isCompleteRequest(req, onEventResp map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range req {
		m[k] = v
	}
	for k, v := range onEventResp {
		m[k] = v
	}
	return m
}

func TestOnEvent(t *testing.T) {
	tests := []struct {
		name    string
		req     map[string]any
		want    map[string]any
		wantErr string
	}{
		{"create without ClusterName", func() map[string]any {
			r := cfnRequest("Create", "", "")
			delete(r["ResourceProperties"].(map[string]any), "ClusterName")
			return r
		}(), nil, "sweeper: resource property ClusterName is required"},
		{"create with a malformed ClusterName", cfnRequest("Create", "my cluster", ""), nil,
			`sweep: cluster name "my cluster" is not a valid EKS cluster name (1-100 characters: letters, digits, '-' and '_', starting with a letter or digit)`},
		{"create with a non-string ClusterName", func() map[string]any {
			r := cfnRequest("Create", "", "")
			r["ResourceProperties"].(map[string]any)["ClusterName"] = 7
			return r
		}(), nil, "sweeper: resource property ClusterName must be a string, got float64"},
		{"unknown request type", cfnRequest("Replace", "alpha", "sweeper-alpha"), nil, `sweeper: unknown RequestType "Replace"`},
		{"create returns a stable physical id", cfnRequest("Create", "alpha", ""), map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "Data": map[string]any{"ClusterName": "alpha"}, "SweeperPhase": "isComplete"}, ""},
		{"update keeps the physical id, even for a new cluster name", cfnRequest("Update", "beta", "sweeper-alpha"), map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "Data": map[string]any{"ClusterName": "beta"}, "SweeperPhase": "isComplete"}, ""},
		{"delete keeps the physical id and sets the deadline", cfnRequest("Delete", "alpha", "sweeper-alpha"), map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "SweeperPhase": "isComplete", "SweepDecision": "sweep",
			"StackStatus": "DELETE_IN_PROGRESS", "SweepDeadline": "2026-11-25T06:40:00Z"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{}
			got, err := invoke(t, newTestHandler(s, t0), context.Background(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("response = %v, want %v", got, tt.want)
			}
			if s.calls != 0 {
				t.Errorf("onEvent swept %d times, want 0 (isComplete sweeps)", s.calls)
			}
		})
	}
}

func TestIsComplete(t *testing.T) {
	left := sweep.Report{Cluster: "alpha", Region: "us-west-2", Remaining: []sweep.Remaining{{
		Resource: sweep.Resource{Kind: sweep.KindSecurityGroup, ID: "sg-1"}, Reason: "in use by network interfaces eni-1 (ELB app/x)"}}}
	denied := sweep.Report{Cluster: "alpha", Region: "us-west-2", Remaining: []sweep.Remaining{{
		Resource: sweep.Resource{Kind: sweep.KindInstance, ID: "i-1"}, Reason: "terminate failed: AccessDenied", Permanent: true}}}
	tests := []struct {
		name        string
		requestType string
		report      sweep.Report
		now         time.Time
		want        map[string]any
		wantErr     string
		wantSweeps  int
	}{
		{"create completes at once", "Create", sweep.Report{}, t0, map[string]any{"IsComplete": true}, "", 0},
		{"update completes at once", "Update", sweep.Report{}, t0, map[string]any{"IsComplete": true}, "", 0},
		{"delete completes when nothing is left", "Delete", sweep.Report{Cluster: "alpha"}, t0, map[string]any{"IsComplete": true}, "", 1},
		{"delete asks to be called again while things are going", "Delete", left, t0, map[string]any{"IsComplete": false}, "", 1},
		{"delete fails with the report after the budget", "Delete", left, t0.Add(41 * time.Minute), nil,
			"sweeper: gave up after 40m0s: sweep of cluster \"alpha\" in us-west-2: 1 resource(s) remain:\n- ec2:security-group sg-1: in use by network interfaces eni-1 (ELB app/x)", 1},
		{"delete fails at once on a permanent error", "Delete", denied, t0, nil,
			"sweep of cluster \"alpha\" in us-west-2: 1 resource(s) remain, 1 of them cannot be deleted without help:\n- ec2:instance i-1: terminate failed: AccessDenied", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cfnRequest(tt.requestType, "alpha", "sweeper-alpha")
			onEvent, err := invoke(t, newTestHandler(&scripted{}, t0), context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			s := &scripted{report: tt.report}
			got, err := invoke(t, newTestHandler(s, tt.now), context.Background(), isCompleteRequest(req, onEvent))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v\nwant %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("response = %v, want %v", got, tt.want)
			}
			if s.calls != tt.wantSweeps {
				t.Errorf("swept %d times, want %d", s.calls, tt.wantSweeps)
			}
			if s.calls > 0 && s.cluster != "alpha" {
				t.Errorf("swept cluster %q, want alpha", s.cluster)
			}
		})
	}
}

// TestIsCompleteSweepDeadline: one invocation sweeps until the earliest of
// its share (perCall), the overall budget, and the Lambda deadline less a
// reserve to answer. The handler's clock is the real one here, because the
// Lambda deadline arrives as a real context deadline.
func TestIsCompleteSweepDeadline(t *testing.T) {
	base := time.Now()
	tests := []struct {
		name      string
		onEventAt time.Time
		lambda    time.Duration
		want      time.Time
	}{
		{"per-call share", base, 5 * time.Minute, base.Add(2 * time.Minute)},
		{"overall budget", base.Add(-39 * time.Minute), 5 * time.Minute, base.Add(time.Minute)},
		{"lambda deadline less reserve", base, 60 * time.Second, base.Add(45 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cfnRequest("Delete", "alpha", "sweeper-alpha")
			onEvent, err := invoke(t, newTestHandler(&scripted{}, tt.onEventAt), context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithDeadline(context.Background(), base.Add(tt.lambda))
			defer cancel()
			s := &scripted{report: sweep.Report{}}
			if _, err := invoke(t, newTestHandler(s, base), ctx, isCompleteRequest(req, onEvent)); err != nil {
				t.Fatal(err)
			}
			// SweepDeadline travels as RFC 3339 with whole seconds.
			if d := s.deadline.Sub(tt.want); d < -time.Second || d > time.Second {
				t.Errorf("sweep deadline = %v, want %v", s.deadline, tt.want)
			}
		})
	}
}

func TestNewHandlerEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		budget  time.Duration
	}{
		{"defaults", nil, "", 40 * time.Minute},
		{"budget set", map[string]string{"SWEEP_BUDGET_SECONDS": "600"}, "", 10 * time.Minute},
		{"budget not a number", map[string]string{"SWEEP_BUDGET_SECONDS": "ten"}, `sweeper: SWEEP_BUDGET_SECONDS="ten" is not a positive number of seconds`, 0},
		{"per-call zero", map[string]string{"SWEEP_PER_CALL_SECONDS": "0"}, `sweeper: SWEEP_PER_CALL_SECONDS="0" is not a positive number of seconds`, 0},
		{"poll negative", map[string]string{"SWEEP_POLL_SECONDS": "-1"}, `sweeper: SWEEP_POLL_SECONDS="-1" is not a positive number of seconds`, 0},
		{"poll a fraction", map[string]string{"SWEEP_POLL_SECONDS": "0.05"}, "", 40 * time.Minute},
		{"poll not a number", map[string]string{"SWEEP_POLL_SECONDS": "NaN"}, `sweeper: SWEEP_POLL_SECONDS="NaN" is not a positive number of seconds`, 0},
		{"backoff zero", map[string]string{"SWEEP_RETRY_MAX_BACKOFF_SECONDS": "0"}, `sweeper: SWEEP_RETRY_MAX_BACKOFF_SECONDS="0" is not a positive number of seconds`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"SWEEP_BUDGET_SECONDS", "SWEEP_PER_CALL_SECONDS", "SWEEP_POLL_SECONDS", "SWEEP_RETRY_MAX_BACKOFF_SECONDS"} {
				t.Setenv(k, tt.env[k])
			}
			h, err := newHandler(slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.budget != tt.budget || h.perCall != 2*time.Minute {
				t.Errorf("budget %v perCall %v, want %v and 2m", h.budget, h.perCall, tt.budget)
			}
		})
	}
}
