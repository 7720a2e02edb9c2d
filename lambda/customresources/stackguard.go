package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// CloudFormation sends a custom resource a Delete not only when its stack is
// deleted, but also during a stack update: when the resource is removed from
// the template or replaced (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS), or when a
// failed update that created it is rolled back (UPDATE_ROLLBACK_IN_PROGRESS,
// UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS). A sweep then would terminate
// the nodes and delete the load balancers of a cluster that stays. So onEvent
// asks CloudFormation for the status of the stack that sent the Delete
// (DescribeStacks with the event's StackId, the stack's ARN: it names this
// incarnation of the stack, never a later one of the same name) and sweeps
// only when the stack itself is going away.

// decision is whether a Delete sweeps, and why.
type decision struct {
	Sweep  bool
	Reason string
}

// decide maps the status of the stack that sent a Delete to whether the
// sweeper sweeps. It sweeps only while the whole stack is being deleted:
//
//   - DELETE_IN_PROGRESS: the stack is being deleted (cdk destroy).
//   - ROLLBACK_IN_PROGRESS: the stack's creation failed and CloudFormation
//     deletes every resource it created, the controllers' Helm releases
//     included (they depend on the sweeper, so they go first, as on a
//     delete). Nothing is left to manage what they created, and a stack in
//     ROLLBACK_COMPLETE can only be deleted, so this is a delete too.
//
// Every other status skips: UPDATE_COMPLETE_CLEANUP_IN_PROGRESS (the
// sweeper was removed from the template or replaced by an update),
// UPDATE_ROLLBACK_IN_PROGRESS and UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS
// (a failed update is undone; the cluster stays), IMPORT_ROLLBACK_IN_PROGRESS
// (imported resources are kept), and any status in which CloudFormation does
// not delete resources. Unknown statuses skip too: a sweep is destructive and
// only done when the stack is known to be going away.
func decide(status cfntypes.StackStatus) decision {
	switch status {
	case cfntypes.StackStatusDeleteInProgress:
		return decision{true, "the stack is being deleted"}
	case cfntypes.StackStatusRollbackInProgress:
		return decision{true, "the stack's creation failed and is being rolled back: all its resources, the controllers included, are deleted"}
	case cfntypes.StackStatusUpdateCompleteCleanupInProgress:
		return decision{false, "a stack update removed or replaced the sweeper; the cluster stays"}
	case cfntypes.StackStatusUpdateRollbackInProgress, cfntypes.StackStatusUpdateRollbackCompleteCleanupInProgress:
		return decision{false, "a failed stack update is being rolled back; the cluster stays"}
	}
	return decision{false, fmt.Sprintf("the stack is not being deleted (status %s)", status)}
}

// stackDescriber is the part of *cloudformation.Client the guard uses.
type stackDescriber interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// validateStackID checks that id is a CloudFormation stack ARN
// (arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>):
// a stack name alone could name a later stack of the same name.
func validateStackID(id string) error {
	a, err := arn.Parse(id)
	if err != nil || a.Service != "cloudformation" || !strings.HasPrefix(a.Resource, "stack/") || strings.Count(a.Resource, "/") != 2 {
		return fmt.Errorf("sweeper: StackId %q is not a CloudFormation stack ARN", id)
	}
	return nil
}

// stackStatus returns the status of the stack with ARN stackID.
func stackStatus(ctx context.Context, api stackDescriber, stackID string) (cfntypes.StackStatus, error) {
	if err := validateStackID(stackID); err != nil {
		return "", err
	}
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
	if err != nil {
		return "", err
	}
	for _, s := range out.Stacks {
		if aws.ToString(s.StackId) == stackID {
			if s.StackStatus == "" {
				return "", errors.New("DescribeStacks returned the stack without a status")
			}
			return s.StackStatus, nil
		}
	}
	return "", fmt.Errorf("DescribeStacks did not return stack %s", stackID)
}
