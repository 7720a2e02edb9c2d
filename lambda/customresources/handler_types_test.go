package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-llm/platform/internal/spotrole"
	"github.com/hybrid-llm/platform/platform"
)

// TestResourceTypes: the function serves each custom resource by its type;
// anything else, and a VPC sweeper without a valid VpcId, fail before any
// AWS call.
func TestResourceTypes(t *testing.T) {
	ensured := 0
	h := newTestHandler(&scripted{}, t0)
	h.ensureSpotRole = func(context.Context) (spotrole.Result, error) {
		ensured++
		return spotrole.Result{}, errors.New("denied")
	}
	for _, tc := range []struct {
		name, resourceType string
		props              map[string]any
		want               string // error text, "" = success
	}{
		{"unknown type", "Custom::Other", map[string]any{"ClusterName": "alpha"}, `sweeper: unknown ResourceType "Custom::Other" (this function serves Custom::ClusterSweeper, Custom::VpcSweeper and Custom::SpotServiceLinkedRole)`},
		{"VPC sweeper without VpcId", platform.VPCSweeperType, map[string]any{"ClusterName": "alpha"}, "sweeper: resource property VpcId is required and must be a string, got <nil>"},
		{"VPC sweeper with a bad VpcId", platform.VPCSweeperType, map[string]any{"ClusterName": "alpha", "VpcId": "subnet-0123"}, `sweep: "subnet-0123" is not a VPC id`},
		{"VPC sweeper", platform.VPCSweeperType, map[string]any{"ClusterName": "alpha", "VpcId": "vpc-0123456789abcdef0"}, ""},
		{"spot role error is the resource's failure", platform.SpotRoleType, map[string]any{"AWSServiceName": platform.SpotServiceName}, "denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := cfnRequest("Create", "alpha", "")
			req["ResourceType"] = tc.resourceType
			req["ResourceProperties"] = tc.props
			resp, err := invoke(t, h, context.Background(), req)
			if tc.want == "" {
				if err != nil || resp["PhysicalResourceId"] != "vpc-sweeper-alpha" {
					t.Errorf("got %v, %v; want physical id vpc-sweeper-alpha", resp, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	if ensured != 1 {
		t.Errorf("ensureSpotRole called %d times, want once", ensured)
	}
}

// TestSpotRoleDeleteMakesNoCall: Delete never touches the account-wide role.
func TestSpotRoleDeleteMakesNoCall(t *testing.T) {
	h := newTestHandler(&scripted{}, t0)
	h.ensureSpotRole = func(context.Context) (spotrole.Result, error) {
		t.Error("Delete called ensureSpotRole")
		return spotrole.Result{}, nil
	}
	req := cfnRequest("Delete", "alpha", platform.SpotRoleName)
	req["ResourceType"] = platform.SpotRoleType
	req["ResourceProperties"] = map[string]any{"AWSServiceName": platform.SpotServiceName}
	resp, err := invoke(t, h, context.Background(), req)
	if err != nil || resp["PhysicalResourceId"] != platform.SpotRoleName || resp["IsComplete"] != nil || resp[PhaseField] != nil {
		t.Errorf("Delete = %v, %v; want the physical id back and nothing else", resp, err)
	}
}

// TestVPCSweeperIsCompleteUsesTheVPCSweeper: isComplete of a VPC sweeper
// sweeps the VPC named by VpcId.
func TestVPCSweeperIsCompleteUsesTheVPCSweeper(t *testing.T) {
	s := &scripted{}
	h := newTestHandler(s, t0)
	h.newSweeper = func(context.Context, string) (sweeper, error) {
		t.Error("the cluster sweeper was used for a VPC sweeper")
		return s, nil
	}
	var gotVPC string
	h.newVPCSweeper = func(_ context.Context, cluster, vpcID string) (sweeper, error) {
		s.cluster, gotVPC = cluster, vpcID
		return s, nil
	}
	req := cfnRequest("Delete", "alpha", "vpc-sweeper-alpha")
	req["ResourceType"] = platform.VPCSweeperType
	req["ResourceProperties"] = map[string]any{"ClusterName": "alpha", "VpcId": "vpc-0123456789abcdef0"}
	onEvent, err := invoke(t, h, context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := invoke(t, h, ctx, isCompleteRequest(req, onEvent))
	if err != nil || resp["IsComplete"] != true {
		t.Fatalf("isComplete = %v, %v", resp, err)
	}
	if s.calls != 1 || s.cluster != "alpha" || gotVPC != "vpc-0123456789abcdef0" {
		t.Errorf("swept %d times, cluster %q, VPC %q", s.calls, s.cluster, gotVPC)
	}
}
