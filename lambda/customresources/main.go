// Command customresources is the Lambda function behind the custom resources of
// constructs/teardown and constructs/spotrole; it serves each by its
// ResourceType:
//
//   - Custom::SpotServiceLinkedRole (onEvent only): Create and Update create
//     the EC2 Spot service-linked role unless it exists (internal/spotrole);
//     Delete does nothing.
//   - Custom::ClusterSweeper and Custom::VpcSweeper, described below; they
//     differ only in what is swept (internal/sweep Sweeper and VPCSweeper).
//
// For the sweepers it is the onEvent and isComplete handler of a CDK
// Provider. Create and Update only validate the ClusterName (and VpcId)
// properties; Delete sweeps (package internal/sweep), polled by the
// Provider's isComplete waiter until nothing is left, but only when the
// stack that sent it is being deleted (DescribeStacks; see stackguard.go):
// removing or replacing the sweeper in a stack update never sweeps.
//
// Environment (set by the construct):
//
//	SWEEP_BUDGET_SECONDS    how long a Delete may take in all (default 2400)
//	SWEEP_PER_CALL_SECONDS  how long one isComplete invocation sweeps (default 120)
//	SWEEP_POLL_SECONDS      pause between passes within an invocation (default 10)
//	SWEEP_RETRY_MAX_BACKOFF_SECONDS
//	                        longest pause between retries of a throttled AWS
//	                        call (default 20 for the sweeps' calls, 10 for
//	                        DescribeStacks and CreateServiceLinkedRole)
//
// Each takes a positive number of seconds, fractions allowed (tests use 0.05).
//
//	AWS_REGION              the cluster's region (set by Lambda)
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/hybrid-llm/platform/internal/spotrole"
	"github.com/hybrid-llm/platform/internal/sweep"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	slog.SetDefault(log)
	h, err := newHandler(log)
	if err != nil {
		log.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func newHandler(log *slog.Logger) (*handler, error) {
	budget, err := seconds("SWEEP_BUDGET_SECONDS", 2400)
	if err != nil {
		return nil, err
	}
	perCall, err := seconds("SWEEP_PER_CALL_SECONDS", 120)
	if err != nil {
		return nil, err
	}
	poll, err := seconds("SWEEP_POLL_SECONDS", 10)
	if err != nil {
		return nil, err
	}
	sweepBackoff, err := seconds("SWEEP_RETRY_MAX_BACKOFF_SECONDS", 20)
	if err != nil {
		return nil, err
	}
	callBackoff := 10 * time.Second
	if os.Getenv("SWEEP_RETRY_MAX_BACKOFF_SECONDS") != "" {
		callBackoff = sweepBackoff
	}
	return &handler{
		newSweeper:     awsSweeper(log, poll, sweepBackoff),
		newVPCSweeper:  awsVPCSweeper(log, poll, sweepBackoff),
		ensureSpotRole: awsEnsureSpotRole(callBackoff),
		stackStatus:    awsStackStatus(callBackoff),
		now:            time.Now,
		budget:         budget,
		perCall:        perCall,
		reserve:        15 * time.Second,
		log:            log,
	}, nil
}

func seconds(env string, def int) (time.Duration, error) {
	v := os.Getenv(env)
	if v == "" {
		return time.Duration(def) * time.Second, nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || !(n > 0) || n > 1e6 {
		return 0, fmt.Errorf("sweeper: %s=%q is not a positive number of seconds", env, v)
	}
	return time.Duration(n * float64(time.Second)), nil
}

// awsSweeper builds sweepers with the SDK's default configuration (the
// function's role, AWS_REGION) and a retryer that backs off on throttling.
func awsSweeper(log *slog.Logger, poll, maxBackoff time.Duration) func(ctx context.Context, cluster string) (sweeper, error) {
	return func(ctx context.Context, cluster string) (sweeper, error) {
		cfg, err := awsConfig(ctx, 10, maxBackoff)
		if err != nil {
			return nil, fmt.Errorf("sweeper: %w", err)
		}
		return sweep.New(sweep.Config{
			ClusterName:  cluster,
			Region:       cfg.Region,
			EC2:          ec2.NewFromConfig(cfg),
			ELB:          elb.NewFromConfig(cfg),
			IAM:          iam.NewFromConfig(cfg),
			Logger:       log,
			PollInterval: poll,
		})
	}
}

// awsVPCSweeper builds VPC sweepers like awsSweeper.
func awsVPCSweeper(log *slog.Logger, poll, maxBackoff time.Duration) func(ctx context.Context, cluster, vpcID string) (sweeper, error) {
	return func(ctx context.Context, cluster, vpcID string) (sweeper, error) {
		cfg, err := awsConfig(ctx, 10, maxBackoff)
		if err != nil {
			return nil, fmt.Errorf("sweeper: %w", err)
		}
		return sweep.NewVPC(sweep.VPCConfig{
			ClusterName:  cluster,
			VpcID:        vpcID,
			Region:       cfg.Region,
			EC2:          ec2.NewFromConfig(cfg),
			Logger:       log,
			PollInterval: poll,
		})
	}
}

// awsConfig loads the SDK's default configuration (the function's role,
// AWS_REGION) with a retryer of maxAttempts attempts that backs off on
// throttling, up to maxBackoff between attempts.
func awsConfig(ctx context.Context, maxAttempts int, maxBackoff time.Duration) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return sweep.NewRetryer(maxAttempts, maxBackoff)
	}))
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return cfg, nil
}

// awsEnsureSpotRole creates the EC2 Spot service-linked role with the SDK's
// default configuration, retrying throttling with backoff.
func awsEnsureSpotRole(maxBackoff time.Duration) func(ctx context.Context) (spotrole.Result, error) {
	return func(ctx context.Context) (spotrole.Result, error) {
		cfg, err := awsConfig(ctx, 8, maxBackoff)
		if err != nil {
			return spotrole.Result{}, err
		}
		return spotrole.Ensure(ctx, iam.NewFromConfig(cfg))
	}
}

// awsStackStatus looks up a stack's status with the SDK's default
// configuration, retrying throttling with backoff (8 attempts: about a
// minute at most with the default 10 s cap, well inside the function's
// timeout).
func awsStackStatus(maxBackoff time.Duration) func(ctx context.Context, stackID string) (cfntypes.StackStatus, error) {
	return func(ctx context.Context, stackID string) (cfntypes.StackStatus, error) {
		cfg, err := awsConfig(ctx, 8, maxBackoff)
		if err != nil {
			return "", err
		}
		return stackStatus(ctx, cloudformation.NewFromConfig(cfg), stackID)
	}
}
