// Package spotrole creates the EC2 Spot service-linked role
// (AWSServiceRoleForEC2Spot) of an account unless it exists.
//
// EC2 needs that role to launch Spot instances. Karpenter 1.14.1 launches
// through CreateFleet; when the role is missing and the caller may not create
// it, the fleet error is AuthFailure.ServiceLinkedRoleCreationNotPermitted,
// on which Karpenter marks the whole spot capacity type unavailable (for
// UnavailableOfferingsTTL, 3 minutes, again after every failed launch) and
// launches on-demand instead (aws/karpenter-provider-aws v1.14.1
// pkg/providers/instance/instance.go, pkg/errors/errors.go,
// pkg/cache/cache.go). Its controller policy does not grant
// iam:CreateServiceLinkedRole, and the getting-started guide has the user
// create the role by hand, ignoring the error when it exists
// (website/content/en/docs/getting-started/getting-started-with-karpenter/scripts/step06-add-spot-role.sh).
//
// The role is account-wide and shared with everything else that uses Spot:
// this package creates it and never deletes it.
package spotrole

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/hybrid-llm/platform/platform"
)

// creator is the part of *iam.Client Ensure uses.
type creator interface {
	CreateServiceLinkedRole(ctx context.Context, in *iam.CreateServiceLinkedRoleInput, optFns ...func(*iam.Options)) (*iam.CreateServiceLinkedRoleOutput, error)
}

// Result says what Ensure did.
type Result struct {
	// Created is true when this call created the role, false when it existed.
	Created bool
	// Arn is the role's ARN when it was created (IAM returns it then only).
	Arn string
}

// Ensure creates the EC2 Spot service-linked role. The role already existing
// counts as success; every other error is returned.
func Ensure(ctx context.Context, api creator) (Result, error) {
	out, err := api.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(platform.SpotServiceName)})
	if err == nil {
		var arn string
		if out.Role != nil {
			arn = aws.ToString(out.Role.Arn)
		}
		return Result{Created: true, Arn: arn}, nil
	}
	if AlreadyExists(err) {
		return Result{}, nil
	}
	return Result{}, fmt.Errorf("creating the EC2 Spot service-linked role (%s): %w", platform.SpotServiceName, err)
}

// AlreadyExists reports whether err is IAM saying the service-linked role
// exists. IAM answers a second CreateServiceLinkedRole with InvalidInput
// "Service role name AWSServiceRoleForEC2Spot has been taken in this account,
// please try a different suffix." (quoted in step06-add-spot-role.sh, see the
// package comment); moto answers EntityAlreadyExists. Any other InvalidInput
// (a bad service name, say) is an error.
func AlreadyExists(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "EntityAlreadyExists":
		return true
	case "InvalidInput":
		return strings.Contains(ae.ErrorMessage(), "has been taken in this account")
	}
	return false
}
