package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/hybrid-llm/platform/internal/spotrole"
	"github.com/hybrid-llm/platform/internal/sweep"
	"github.com/hybrid-llm/platform/platform"
)

// The CDK Provider framework (aws-cdk-lib 2.223.0,
// custom-resources/lib/provider-framework) calls the same function twice per
// lifecycle event when an isComplete handler is configured:
//
//   - onEvent with the CloudFormation request (RequestType,
//     ResourceProperties, PhysicalResourceId, ...). Its response
//     (PhysicalResourceId, Data, and any custom field) is merged into the
//     request to form the isComplete request ("Custom fields returned from
//     OnEvent will be passed to IsComplete", types.d.ts). A Delete must not
//     change the physical id.
//   - isComplete, repeatedly every queryInterval until it returns
//     IsComplete=true, throws (the resource FAILS with the error text), or
//     totalTimeout passes ("Operation timed out").
//
// This function is both handlers. It tells them apart by the custom field
// PhaseField, which only its own onEvent response puts into a request.
//
// On a Delete, onEvent looks up the stack's status once (stackguard.go) and
// passes its decision to isComplete in the custom field SweepDecision:
// isComplete sweeps only on "sweep", completes at once on "skip", and fails
// without sweeping when the field is missing.

// PhaseField is the custom field onEvent returns so that the isComplete
// request can be recognised.
const PhaseField = "SweeperPhase"

// phaseIsComplete is PhaseField's value.
const phaseIsComplete = "isComplete"

// Values of the custom field SweepDecision: what onEvent decided for a
// Delete from the stack's status (decide). isComplete sweeps only on
// decisionSweep, so the stack's status is looked up once per Delete.
const (
	decisionSweep = "sweep"
	decisionSkip  = "skip"
)

// Request is what the Provider framework sends to onEvent and isComplete.
type Request struct {
	RequestType           string         `json:"RequestType"`
	RequestID             string         `json:"RequestId"`
	StackID               string         `json:"StackId"`
	LogicalResourceID     string         `json:"LogicalResourceId"`
	PhysicalResourceID    string         `json:"PhysicalResourceId,omitempty"`
	ResourceType          string         `json:"ResourceType"`
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
	// SweeperPhase, SweepDecision, StackStatus and SweepDeadline are set
	// only in isComplete requests: they come from this function's onEvent
	// response.
	SweeperPhase  string `json:"SweeperPhase,omitempty"`
	SweepDecision string `json:"SweepDecision,omitempty"`
	StackStatus   string `json:"StackStatus,omitempty"`
	SweepDeadline string `json:"SweepDeadline,omitempty"`
}

// Response is what this function returns to the framework: an onEvent
// response (PhysicalResourceId, Data, custom fields) or an isComplete one
// (IsComplete, and Data only when complete).
type Response struct {
	PhysicalResourceID string            `json:"PhysicalResourceId,omitempty"`
	Data               map[string]string `json:"Data,omitempty"`
	IsComplete         *bool             `json:"IsComplete,omitempty"`
	SweeperPhase       string            `json:"SweeperPhase,omitempty"`
	SweepDecision      string            `json:"SweepDecision,omitempty"`
	StackStatus        string            `json:"StackStatus,omitempty"`
	SweepDeadline      string            `json:"SweepDeadline,omitempty"`
}

// sweeper is the part of *sweep.Sweeper the handler uses.
type sweeper interface {
	Sweep(ctx context.Context) sweep.Report
}

// handler holds the handler's dependencies.
type handler struct {
	// newSweeper returns the sweeper of a cluster (Custom::ClusterSweeper).
	newSweeper func(ctx context.Context, cluster string) (sweeper, error)
	// newVPCSweeper returns the sweeper of a cluster's VPC (Custom::VpcSweeper).
	newVPCSweeper func(ctx context.Context, cluster, vpcID string) (sweeper, error)
	// ensureSpotRole creates the EC2 Spot service-linked role unless it
	// exists (Custom::SpotServiceLinkedRole).
	ensureSpotRole func(ctx context.Context) (spotrole.Result, error)
	// stackStatus returns the status of the stack with the given ARN
	// (DescribeStacks).
	stackStatus func(ctx context.Context, stackID string) (cfntypes.StackStatus, error)
	// now is the clock.
	now func() time.Time
	// budget is how long a Delete may take from onEvent to the last
	// isComplete before it fails with the report of what is left.
	budget time.Duration
	// perCall bounds the sweeping one isComplete invocation does.
	perCall time.Duration
	// reserve is the time kept back from the Lambda deadline to answer.
	reserve time.Duration
	log     *slog.Logger
}

// physicalID is the physical resource id for a cluster. It is chosen at
// Create and kept for the life of the resource: a changed ClusterName updates
// the resource in place, so CloudFormation never sends a Delete (and a
// sweep) for the old name as part of an update.
func physicalID(resourceType, cluster string) string {
	if resourceType == platform.VPCSweeperType {
		return "vpc-sweeper-" + cluster
	}
	return "sweeper-" + cluster
}

// vpcID returns the validated VpcId resource property of a Custom::VpcSweeper.
func vpcID(props map[string]any) (string, error) {
	s, ok := props["VpcId"].(string)
	if !ok {
		return "", fmt.Errorf("sweeper: resource property VpcId is required and must be a string, got %T", props["VpcId"])
	}
	return s, sweep.ValidateVpcID(s)
}

// clusterName returns the validated ClusterName resource property.
func clusterName(props map[string]any) (string, error) {
	v, ok := props["ClusterName"]
	if !ok {
		return "", errors.New("sweeper: resource property ClusterName is required")
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("sweeper: resource property ClusterName must be a string, got %T", v)
	}
	if err := platform.ValidateEKSClusterName(s); err != nil {
		return "", err
	}
	return s, nil
}

// Handle serves both onEvent and isComplete requests.
func (h *handler) Handle(ctx context.Context, req Request) (Response, error) {
	log := h.log.With("requestType", req.RequestType, "requestId", req.RequestID,
		"logicalResourceId", req.LogicalResourceID, "physicalResourceId", req.PhysicalResourceID,
		"phase", phaseName(req))
	log.Info("request", "resourceProperties", req.ResourceProperties)
	var resp Response
	var err error
	switch {
	case req.ResourceType == platform.SpotRoleType:
		resp, err = h.spotRole(ctx, log, req)
	case req.ResourceType != platform.ClusterSweeperType && req.ResourceType != platform.VPCSweeperType:
		err = fmt.Errorf("sweeper: unknown ResourceType %q (this function serves %s, %s and %s)",
			req.ResourceType, platform.ClusterSweeperType, platform.VPCSweeperType, platform.SpotRoleType)
	case req.SweeperPhase == phaseIsComplete:
		resp, err = h.isComplete(ctx, log, req)
	default:
		resp, err = h.onEvent(ctx, log, req)
	}
	if err != nil {
		log.Error("failed", "error", err.Error())
		return Response{}, err
	}
	log.Info("response", "response", resp)
	return resp, nil
}

func phaseName(req Request) string {
	if req.SweeperPhase == phaseIsComplete {
		return "isComplete"
	}
	return "onEvent"
}

func (h *handler) onEvent(ctx context.Context, log *slog.Logger, req Request) (Response, error) {
	cluster, err := clusterName(req.ResourceProperties)
	if err != nil {
		return Response{}, err
	}
	if req.ResourceType == platform.VPCSweeperType {
		if _, err := vpcID(req.ResourceProperties); err != nil {
			return Response{}, err
		}
	}
	resp := Response{SweeperPhase: phaseIsComplete, Data: map[string]string{"ClusterName": cluster}}
	switch req.RequestType {
	case "Create":
		resp.PhysicalResourceID = physicalID(req.ResourceType, cluster)
	case "Update":
		resp.PhysicalResourceID = req.PhysicalResourceID
	case "Delete":
		resp.PhysicalResourceID = req.PhysicalResourceID
		resp.Data = nil
		// Fail safe: without the stack's status there is no telling a
		// stack deletion from an update that removes the sweeper from a
		// live cluster. Failing (rather than succeeding without a sweep)
		// makes a stack deletion stop visibly instead of leaving GPU
		// instances running; in an update's cleanup phase a failed Delete
		// leaves the stack UPDATE_COMPLETE and the cluster untouched.
		status, err := h.stackStatus(ctx, req.StackID)
		if err != nil {
			return Response{}, fmt.Errorf("sweeper: not sweeping cluster %q: cannot tell whether stack %s is being deleted: %w", cluster, req.StackID, err)
		}
		d := decide(status)
		resp.StackStatus = string(status)
		if !d.Sweep {
			resp.SweepDecision = decisionSkip
			log.Info("sweep skipped", "cluster", cluster, "stackId", req.StackID, "stackStatus", string(status), "reason", d.Reason)
			return resp, nil
		}
		resp.SweepDecision = decisionSweep
		resp.SweepDeadline = h.now().Add(h.budget).UTC().Format(time.RFC3339)
		log.Info("sweep scheduled", "cluster", cluster, "stackId", req.StackID, "stackStatus", string(status),
			"reason", d.Reason, "deadline", resp.SweepDeadline)
	default:
		return Response{}, fmt.Errorf("sweeper: unknown RequestType %q", req.RequestType)
	}
	return resp, nil
}

func (h *handler) isComplete(ctx context.Context, log *slog.Logger, req Request) (Response, error) {
	done := true
	if req.RequestType != "Delete" {
		// Create and Update only validate, which onEvent did.
		return Response{IsComplete: &done}, nil
	}
	switch req.SweepDecision {
	case decisionSweep:
	case decisionSkip:
		log.Info("sweep skipped", "stackStatus", req.StackStatus, "reason", decide(cfntypes.StackStatus(req.StackStatus)).Reason)
		return Response{IsComplete: &done}, nil
	default:
		return Response{}, fmt.Errorf("sweeper: not sweeping: isComplete request has no SweepDecision from onEvent (got %q)", req.SweepDecision)
	}
	cluster, err := clusterName(req.ResourceProperties)
	if err != nil {
		return Response{}, err
	}
	deadline, err := time.Parse(time.RFC3339, req.SweepDeadline)
	if err != nil {
		return Response{}, fmt.Errorf("sweeper: isComplete request has no valid SweepDeadline %q: %w", req.SweepDeadline, err)
	}
	var s sweeper
	if req.ResourceType == platform.VPCSweeperType {
		vpc, verr := vpcID(req.ResourceProperties)
		if verr != nil {
			return Response{}, verr
		}
		s, err = h.newVPCSweeper(ctx, cluster, vpc)
	} else {
		s, err = h.newSweeper(ctx, cluster)
	}
	if err != nil {
		return Response{}, err
	}
	// Sweep until this invocation's share of time is used, then let the
	// framework call again after queryInterval.
	stop := h.now().Add(h.perCall)
	if deadline.Before(stop) {
		stop = deadline
	}
	if d, ok := ctx.Deadline(); ok && d.Add(-h.reserve).Before(stop) {
		stop = d.Add(-h.reserve)
	}
	sctx, cancel := context.WithDeadline(ctx, stop)
	defer cancel()
	rep := s.Sweep(sctx)
	log.Info("sweep report", "report", rep)
	switch {
	case rep.Done():
		return Response{IsComplete: &done}, nil
	case rep.Permanent():
		return Response{}, rep.Err()
	case !h.now().Before(deadline):
		return Response{}, fmt.Errorf("sweeper: gave up after %s: %w", h.budget, rep.Err())
	}
	notYet := false
	return Response{IsComplete: &notYet}, nil
}

// spotRole serves Custom::SpotServiceLinkedRole (a Provider without an
// isComplete handler): Create and Update create the EC2 Spot service-linked
// role unless it exists; Delete does nothing, because the role is
// account-wide and other workloads of the account may launch Spot instances
// with it.
func (h *handler) spotRole(ctx context.Context, log *slog.Logger, req Request) (Response, error) {
	if svc, _ := req.ResourceProperties["AWSServiceName"].(string); svc != platform.SpotServiceName {
		return Response{}, fmt.Errorf("sweeper: resource property AWSServiceName is %q; this resource only creates the role of %q",
			req.ResourceProperties["AWSServiceName"], platform.SpotServiceName)
	}
	switch req.RequestType {
	case "Create", "Update":
		res, err := h.ensureSpotRole(ctx)
		if err != nil {
			return Response{}, err
		}
		log.Info("spot service-linked role", "created", res.Created, "arn", res.Arn)
		return Response{PhysicalResourceID: platform.SpotRoleName,
			Data: map[string]string{"RoleName": platform.SpotRoleName, "Created": fmt.Sprint(res.Created)}}, nil
	case "Delete":
		log.Info("spot service-linked role kept: it is account-wide and never deleted by this stack")
		return Response{PhysicalResourceID: req.PhysicalResourceID}, nil
	}
	return Response{}, fmt.Errorf("sweeper: unknown RequestType %q", req.RequestType)
}
