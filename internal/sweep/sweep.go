package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/hybrid-llm/platform/platform"
)

// InstanceProfilePath returns the IAM path prefix under which Karpenter v1.14
// creates the instance profiles of a cluster in a region.
func InstanceProfilePath(region, cluster string) string {
	return "/karpenter/" + region + "/" + cluster + "/"
}

// Config configures a Sweeper.
type Config struct {
	// ClusterName is the EKS cluster whose leftovers are swept. Required.
	ClusterName string
	// Region is the cluster's region; it is part of Karpenter's instance
	// profile path. Required.
	Region string
	// EC2, ELB and IAM are the service clients. Required.
	EC2 *ec2.Client
	ELB *elb.Client
	IAM *iam.Client
	// Logger receives one structured record per action. Default: slog.Default().
	Logger *slog.Logger
	// PollInterval is the pause between passes in Sweep. Default: 10s.
	PollInterval time.Duration
}

// Sweeper deletes one cluster's leftovers. Create it with New.
type Sweeper struct {
	cfg Config
	log *slog.Logger
}

// New validates cfg and returns a Sweeper.
func New(cfg Config) (*Sweeper, error) {
	if err := checkTarget(cfg.ClusterName, cfg.Region); err != nil {
		return nil, err
	}
	if cfg.EC2 == nil || cfg.ELB == nil || cfg.IAM == nil {
		return nil, errors.New("sweep: EC2, ELB and IAM clients are required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	return &Sweeper{cfg: cfg, log: withAttrs(cfg.Logger, "cluster", cfg.ClusterName, "region", cfg.Region)}, nil
}

// checkTarget validates the cluster and region a sweep is for.
func checkTarget(cluster, region string) error {
	if err := platform.ValidateEKSClusterName(cluster); err != nil {
		return err
	}
	if !platform.IsRegion(region) {
		return fmt.Errorf("sweep: region %q is not a valid AWS region name", region)
	}
	return nil
}

// withAttrs returns log (slog.Default() when nil) with attrs on every record.
func withAttrs(log *slog.Logger, attrs ...any) *slog.Logger {
	if log == nil {
		log = slog.Default()
	}
	return log.With(attrs...)
}

// NewRetryer returns the SDK's standard retryer (exponential backoff with
// jitter; Throttling, RequestLimitExceeded and 5xx are retried) with
// maxAttempts attempts per call and delays capped at maxBackoff. Client-side
// retry rate limiting is off: a sweep is one short-lived caller, and running
// out of retry tokens in the middle of a teardown helps nobody.
func NewRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
	})
}

// Sweep runs passes until nothing of the cluster is left, a pass finds a
// problem that waiting will not fix, or ctx is done. The returned report is
// the last pass's, with Deleted accumulated over all passes.
func (s *Sweeper) Sweep(ctx context.Context) Report {
	return sweepLoop(ctx, s.log, s.cfg.PollInterval, s.Pass)
}

// sweepLoop runs pass until its report is Done or Permanent, or ctx is done,
// pausing poll between passes. The returned report is the last whole pass's,
// with Deleted accumulated over all passes.
func sweepLoop(ctx context.Context, log *slog.Logger, poll time.Duration, passFn func(context.Context) Report) Report {
	start := time.Now()
	var deleted []Resource
	seen := map[Resource]bool{}
	var prev *Report
	for pass := 1; ; pass++ {
		rep := passFn(ctx)
		// A delete the API accepted may be issued again on the next pass
		// while the resource is still listed; report it once.
		for _, r := range rep.Deleted {
			if !seen[r] {
				seen[r] = true
				deleted = append(deleted, r)
			}
		}
		if ctx.Err() != nil && prev != nil {
			// The deadline cut this pass short: its reasons would only say
			// "context deadline exceeded". The last whole pass says why
			// things remain.
			rep = *prev
		}
		rep.Deleted = deleted
		rep.Passes = pass
		if rep.Done() || rep.Permanent() {
			log.Info("sweep finished", "passes", pass, "done", rep.Done(),
				"deleted", len(rep.Deleted), "remaining", len(rep.Remaining),
				"elapsed", time.Since(start).String())
			return rep
		}
		timer := time.NewTimer(poll)
		select {
		case <-ctx.Done():
		case <-timer.C:
			log.Info("sweep waiting", "pass", pass, "remaining", len(rep.Remaining))
			prev = &rep
			continue
		}
		timer.Stop()
		rep.TimedOut = true
		log.Warn("sweep deadline reached", "passes", pass,
			"remaining", len(rep.Remaining), "elapsed", time.Since(start).String())
		return rep
	}
}

// Pass does one round of work: it issues every delete that is currently
// possible and reports what is still there. It never waits for a resource to
// go away; call it again later (or use Sweep).
func (s *Sweeper) Pass(ctx context.Context) Report {
	p := &pass{s: s, ctx: ctx, rep: Report{Cluster: s.cfg.ClusterName, Region: s.cfg.Region}}
	const waitInstances = "waiting for the cluster's instances to terminate"
	const waitLBs = "waiting for the cluster's load balancers to be deleted"
	instancesGone := p.instances()
	p.launchTemplates(waitIf(!instancesGone, waitInstances))
	p.instanceProfiles(waitIf(!instancesGone, waitInstances))
	lbsGone := p.loadBalancers()
	p.targetGroups(waitIf(!lbsGone, waitLBs))
	switch {
	case !instancesGone:
		p.securityGroups(waitInstances + " (their network interfaces use security groups)")
	case !lbsGone:
		p.securityGroups(waitLBs + " (their network interfaces use security groups)")
	default:
		p.securityGroups("")
	}
	return p.rep
}

// pass holds the state of one Pass.
type pass struct {
	s   *Sweeper
	ctx context.Context
	rep Report
}

func (p *pass) cluster() string { return p.s.cfg.ClusterName }

// deleted records that the API accepted the delete of r (or said it was
// already gone). r still counts as remaining until a later pass no longer
// lists it: a NotFound can be eventual consistency talking, and a load
// balancer or instance takes a while to go.
func (p *pass) deleted(r Resource) {
	p.s.log.Info("delete accepted", "kind", string(r.Kind), "id", r.ID, "name", r.Name)
	p.rep.Deleted = append(p.rep.Deleted, r)
	p.rep.Remaining = append(p.rep.Remaining, Remaining{Resource: r,
		Reason: "delete accepted; waiting for a listing to confirm it is gone"})
}

// remain records r as still present. err (may be nil) explains why.
func (p *pass) remain(r Resource, reason string, err error) {
	permanent := false
	if err != nil {
		permanent = isPermanent(err)
		reason = reason + ": " + err.Error()
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
	}
	p.s.log.Log(p.ctx, level, "remaining", "kind", string(r.Kind), "id", r.ID, "name", r.Name,
		"reason", reason, "permanent", permanent)
	p.rep.Remaining = append(p.rep.Remaining, Remaining{Resource: r, Reason: reason, Permanent: permanent})
}

// listFailed records that a kind could not even be listed: nothing can be
// said about what is left of it.
func (p *pass) listFailed(kind Kind, err error) {
	p.remain(Resource{Kind: kind, ID: "*"}, "listing failed", err)
}

// waitIf returns reason when cond holds, else "" (go ahead).
func waitIf(cond bool, reason string) string {
	if cond {
		return reason
	}
	return ""
}
