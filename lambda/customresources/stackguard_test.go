package main

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/hybrid-llm/platform/internal/sweep"
)

const testStackID = "arn:aws:cloudformation:us-west-2:111111111111:stack/HybridLlmAddons/1"

// TestDecide lists every stack status of the CloudFormation API (SDK
// cloudformation v1.82.6) with what a Delete does in it.
func TestDecide(t *testing.T) {
	notDeleted := func(s string) decision {
		return decision{false, "the stack is not being deleted (status " + s + ")"}
	}
	tests := []struct {
		status cfntypes.StackStatus
		want   decision
	}{
		// The stack is going away: sweep.
		{"DELETE_IN_PROGRESS", decision{true, "the stack is being deleted"}},
		{"ROLLBACK_IN_PROGRESS", decision{true, "the stack's creation failed and is being rolled back: all its resources, the controllers included, are deleted"}},
		// An update removes, replaces or rolls back the sweeper: the cluster stays.
		{"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", decision{false, "a stack update removed or replaced the sweeper; the cluster stays"}},
		{"UPDATE_ROLLBACK_IN_PROGRESS", decision{false, "a failed stack update is being rolled back; the cluster stays"}},
		{"UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", decision{false, "a failed stack update is being rolled back; the cluster stays"}},
		// CloudFormation deletes no resource in these (or keeps them, for imports).
		{"CREATE_IN_PROGRESS", notDeleted("CREATE_IN_PROGRESS")},
		{"CREATE_FAILED", notDeleted("CREATE_FAILED")},
		{"CREATE_COMPLETE", notDeleted("CREATE_COMPLETE")},
		{"ROLLBACK_FAILED", notDeleted("ROLLBACK_FAILED")},
		{"ROLLBACK_COMPLETE", notDeleted("ROLLBACK_COMPLETE")},
		{"DELETE_FAILED", notDeleted("DELETE_FAILED")},
		{"DELETE_COMPLETE", notDeleted("DELETE_COMPLETE")},
		{"UPDATE_IN_PROGRESS", notDeleted("UPDATE_IN_PROGRESS")},
		{"UPDATE_COMPLETE", notDeleted("UPDATE_COMPLETE")},
		{"UPDATE_FAILED", notDeleted("UPDATE_FAILED")},
		{"UPDATE_ROLLBACK_FAILED", notDeleted("UPDATE_ROLLBACK_FAILED")},
		{"UPDATE_ROLLBACK_COMPLETE", notDeleted("UPDATE_ROLLBACK_COMPLETE")},
		{"REVIEW_IN_PROGRESS", notDeleted("REVIEW_IN_PROGRESS")},
		{"IMPORT_IN_PROGRESS", notDeleted("IMPORT_IN_PROGRESS")},
		{"IMPORT_COMPLETE", notDeleted("IMPORT_COMPLETE")},
		{"IMPORT_ROLLBACK_IN_PROGRESS", notDeleted("IMPORT_ROLLBACK_IN_PROGRESS")},
		{"IMPORT_ROLLBACK_FAILED", notDeleted("IMPORT_ROLLBACK_FAILED")},
		{"IMPORT_ROLLBACK_COMPLETE", notDeleted("IMPORT_ROLLBACK_COMPLETE")},
		// A status the SDK does not know yet.
		{"SOMETHING_NEW_IN_PROGRESS", notDeleted("SOMETHING_NEW_IN_PROGRESS")},
	}
	listed := map[cfntypes.StackStatus]bool{}
	for _, tt := range tests {
		listed[tt.status] = true
		t.Run(string(tt.status), func(t *testing.T) {
			if got := decide(tt.status); got != tt.want {
				t.Errorf("decide(%s) = %+v, want %+v", tt.status, got, tt.want)
			}
		})
	}
	t.Run("every status the SDK knows is listed", func(t *testing.T) {
		for _, s := range cfntypes.StackStatus("").Values() {
			if !listed[s] {
				t.Errorf("stack status %s is not in the table: decide what a Delete does in it", s)
			}
		}
	})
}

func TestValidateStackID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string
	}{
		{testStackID, ""},
		{"arn:aws-cn:cloudformation:cn-north-1:111111111111:stack/HybridLlmAddons/51af3dc0-da77-11e4-872e-1234567db123", ""},
		{"", `sweeper: StackId "" is not a CloudFormation stack ARN`},
		{"HybridLlmAddons", `sweeper: StackId "HybridLlmAddons" is not a CloudFormation stack ARN`},
		{"arn:aws:cloudformation:us-west-2:111111111111:stack/HybridLlmAddons", `sweeper: StackId "arn:aws:cloudformation:us-west-2:111111111111:stack/HybridLlmAddons" is not a CloudFormation stack ARN`},
		{"arn:aws:cloudformation:us-west-2:111111111111:stackset/S:1", `sweeper: StackId "arn:aws:cloudformation:us-west-2:111111111111:stackset/S:1" is not a CloudFormation stack ARN`},
		{"arn:aws:sqs:us-west-2:111111111111:stack/a/b", `sweeper: StackId "arn:aws:sqs:us-west-2:111111111111:stack/a/b" is not a CloudFormation stack ARN`},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := validateStackID(tt.id)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("validateStackID(%q) = %v, want %q", tt.id, err, tt.wantErr)
			}
		})
	}
}

// fakeStacks answers DescribeStacks with out or err and records the names asked for.
type fakeStacks struct {
	out   *cloudformation.DescribeStacksOutput
	err   error
	names []string
}

func (f *fakeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.names = append(f.names, aws.ToString(in.StackName))
	return f.out, f.err
}

func TestStackStatus(t *testing.T) {
	stack := func(id string, s cfntypes.StackStatus) cfntypes.Stack {
		return cfntypes.Stack{StackId: aws.String(id), StackName: aws.String("HybridLlmAddons"), StackStatus: s}
	}
	tests := []struct {
		name      string
		stackID   string
		fake      *fakeStacks
		want      cfntypes.StackStatus
		wantErr   string
		wantCalls []string
	}{
		{"status of the stack asked for, by ARN", testStackID,
			&fakeStacks{out: &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{stack(testStackID, "DELETE_IN_PROGRESS")}}},
			"DELETE_IN_PROGRESS", "", []string{testStackID}},
		{"no ARN, no call", "HybridLlmAddons", &fakeStacks{},
			"", `sweeper: StackId "HybridLlmAddons" is not a CloudFormation stack ARN`, nil},
		{"API error passed on", testStackID, &fakeStacks{err: errors.New("AccessDenied")},
			"", "AccessDenied", []string{testStackID}},
		{"another stack only", testStackID,
			&fakeStacks{out: &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{stack(testStackID+"x", "DELETE_IN_PROGRESS")}}},
			"", "DescribeStacks did not return stack " + testStackID, []string{testStackID}},
		{"no stacks", testStackID, &fakeStacks{out: &cloudformation.DescribeStacksOutput{}},
			"", "DescribeStacks did not return stack " + testStackID, []string{testStackID}},
		{"no status", testStackID,
			&fakeStacks{out: &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{stack(testStackID, "")}}},
			"", "DescribeStacks returned the stack without a status", []string{testStackID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stackStatus(context.Background(), tt.fake, tt.stackID)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error = %v, want %s", err, tt.wantErr)
				}
			} else if err != nil || got != tt.want {
				t.Errorf("stackStatus = %q, %v, want %q", got, err, tt.want)
			}
			if !reflect.DeepEqual(tt.fake.names, tt.wantCalls) {
				t.Errorf("DescribeStacks called with %q, want %q", tt.fake.names, tt.wantCalls)
			}
		})
	}
}

// TestDeleteStackGuard drives a Delete through onEvent and isComplete for
// each outcome of the stack status lookup: the lookup happens once, in
// onEvent, with the event's StackId, and isComplete sweeps only after a
// "sweep" decision.
func TestDeleteStackGuard(t *testing.T) {
	tests := []struct {
		name        string
		status      cfntypes.StackStatus
		err         error
		wantOnEvent map[string]any
		wantErr     string
		wantSweeps  int
	}{
		{"stack deletion sweeps", "DELETE_IN_PROGRESS", nil, map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "SweeperPhase": "isComplete", "SweepDecision": "sweep",
			"StackStatus": "DELETE_IN_PROGRESS", "SweepDeadline": "2026-11-25T06:40:00Z"}, "", 1},
		{"rollback of a failed creation sweeps", "ROLLBACK_IN_PROGRESS", nil, map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "SweeperPhase": "isComplete", "SweepDecision": "sweep",
			"StackStatus": "ROLLBACK_IN_PROGRESS", "SweepDeadline": "2026-11-25T06:40:00Z"}, "", 1},
		{"update removing or replacing the sweeper skips", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", nil, map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "SweeperPhase": "isComplete", "SweepDecision": "skip",
			"StackStatus": "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"}, "", 0},
		{"update rollback skips", "UPDATE_ROLLBACK_IN_PROGRESS", nil, map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "SweeperPhase": "isComplete", "SweepDecision": "skip",
			"StackStatus": "UPDATE_ROLLBACK_IN_PROGRESS"}, "", 0},
		{"stack in service skips", "UPDATE_COMPLETE", nil, map[string]any{
			"PhysicalResourceId": "sweeper-alpha", "SweeperPhase": "isComplete", "SweepDecision": "skip",
			"StackStatus": "UPDATE_COMPLETE"}, "", 0},
		{"lookup failure fails without sweeping", "", errors.New("operation error CloudFormation: DescribeStacks, AccessDenied"), nil,
			`sweeper: not sweeping cluster "alpha": cannot tell whether stack ` + testStackID +
				` is being deleted: operation error CloudFormation: DescribeStacks, AccessDenied`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			s := &scripted{report: sweep.Report{Cluster: "alpha"}}
			h := newTestHandler(s, t0)
			h.stackStatus = func(_ context.Context, id string) (cfntypes.StackStatus, error) {
				asked = append(asked, id)
				return tt.status, tt.err
			}
			req := cfnRequest("Delete", "alpha", "sweeper-alpha")
			onEvent, err := invoke(t, h, context.Background(), req)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("onEvent error = %v\nwant %s", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(onEvent, tt.wantOnEvent) {
					t.Errorf("onEvent response = %v\nwant %v", onEvent, tt.wantOnEvent)
				}
				got, err := invoke(t, h, context.Background(), isCompleteRequest(req, onEvent))
				if err != nil {
					t.Fatal(err)
				}
				if got["IsComplete"] != true {
					t.Errorf("isComplete response = %v, want IsComplete true", got)
				}
			}
			if s.calls != tt.wantSweeps {
				t.Errorf("swept %d times, want %d", s.calls, tt.wantSweeps)
			}
			if !reflect.DeepEqual(asked, []string{testStackID}) {
				t.Errorf("stack status looked up for %q, want once for %s", asked, testStackID)
			}
		})
	}
}

// TestIsCompleteWithoutDecision: an isComplete request without onEvent's
// decision never sweeps.
func TestIsCompleteWithoutDecision(t *testing.T) {
	for _, decisionValue := range []string{"", "maybe"} {
		t.Run("SweepDecision="+decisionValue, func(t *testing.T) {
			s := &scripted{report: sweep.Report{Cluster: "alpha"}}
			req := isCompleteRequest(cfnRequest("Delete", "alpha", "sweeper-alpha"), map[string]any{
				"SweeperPhase": "isComplete", "SweepDecision": decisionValue, "SweepDeadline": "2026-11-25T06:40:00Z"})
			_, err := invoke(t, newTestHandler(s, t0), context.Background(), req)
			want := `sweeper: not sweeping: isComplete request has no SweepDecision from onEvent (got "` + decisionValue + `")`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error = %v, want %s", err, want)
			}
			if s.calls != 0 {
				t.Errorf("swept %d times, want 0", s.calls)
			}
		})
	}
}
