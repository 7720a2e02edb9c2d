// Command hybrid-llm-platform is the CDK app that deploys an EKS platform for
// serving open LLMs: run through the CDK CLI ("npx cdk synth").
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/constructs/teardown"
	"github.com/hybrid-llm/platform/internal/gobundle"
	"github.com/hybrid-llm/platform/internal/timing"
	"github.com/hybrid-llm/platform/platform"
	"github.com/hybrid-llm/platform/stacks"
)

// Stack ids: a contract (renaming one replaces the stack).
const (
	networkStackID    = "HybridLlmNetwork"
	clusterStackID    = "HybridLlmCluster"
	nodeGroupsStackID = "HybridLlmNodeGroups"
	addonsStackID     = "HybridLlmAddons"
)

// appStacks holds the app's four stacks.
type appStacks struct {
	Network    *stacks.NetworkStack
	Cluster    *stacks.ClusterStack
	NodeGroups *stacks.NodeGroupStack
	Addons     *stacks.AddonsStack
}

func main() {
	start := time.Now()
	// Every app has the Lambda of lambda/customresources (the sweepers' and the Spot
	// role's handler): its build check runs while jsii starts.
	gobundle.Prefetch(teardown.EntryDir)
	defer gobundle.Cleanup()
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	timing.Since("jsii kernel start and aws-cdk-lib load", start)
	cfg, err := config.Load(contextOf(app))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hybrid-llm-platform:", err)
		jsii.Close() // os.Exit skips the deferred Close: without it the unpacked jsii runtime stays in /tmp
		gobundle.Cleanup()
		os.Exit(1)
	}
	if cfg.CDKNag.Enabled && validationOff() {
		cfg.CDKNag.Enabled = false
		fmt.Fprintln(os.Stderr, "hybrid-llm-platform: CDK_VALIDATION=false (cdk --no-validation): cdk-nag is skipped too; go test and CI run both")
	}
	tree := time.Now()
	newApp(app, cfg)
	timing.Since("construct tree (bundling included)", tree)
	synth := time.Now()
	app.Synth(nil)
	timing.Since("synth: aspects, validation, assembly", synth)
	timing.Since("app", start)
}

// validationOff reports whether the CLI was asked to skip the synth-time
// checks (`cdk synth --no-validation` sets CDK_VALIDATION=false; only an
// explicit "false" counts, as in aws-cdk-lib). aws-cdk-lib then skips its
// built-in template validation, and main skips cdk-nag with it: the two
// checks that run at every synth are turned off by one switch, for a fast
// inner loop (about 0.4 s of nag). newApp does not read it, so the tests,
// which build their apps with newApp, always run cdk-nag.
func validationOff() bool { return os.Getenv(validationEnv) == "false" }

// validationEnv is the environment variable the CDK CLI sets to "false" for
// `--no-validation`, and which aws-cdk-lib reads.
const validationEnv = "CDK_VALIDATION"

// contextOf returns the app's whole CDK context (cdk.json, cdk.context.json
// and -c flags).
func contextOf(app awscdk.App) map[string]any {
	all, _ := app.Node().GetAllContext(nil).(map[string]any)
	return all
}

// seedAvailabilityZones answers the availability-zone lookup of an
// account-specific stack with the configured AZs, unless cdk.context.json
// already holds a real answer. The VPC reads the account's AZs only to check
// the explicit network.availabilityZones against them; without this, synth
// with an account set would call AWS, and synth must work offline.
func seedAvailabilityZones(app awscdk.App, cfg config.Config) {
	key := fmt.Sprintf("availability-zones:account=%s:region=%s", cfg.Account, cfg.Region)
	if app.Node().TryGetContext(jsii.String(key)) == nil {
		app.Node().SetContext(jsii.String(key), jsii.Strings(cfg.Network.AvailabilityZones...))
	}
}

// newApp builds the four stacks of a validated configuration into app. The
// tests call it too, so they exercise the real wiring.
func newApp(app awscdk.App, cfg config.Config) *appStacks {
	env := &awscdk.Environment{Region: jsii.String(cfg.Region)}
	if cfg.Account != "" {
		env.Account = jsii.String(cfg.Account)
		seedAvailabilityZones(app, cfg)
	}
	tags := map[string]*string{}
	for k, v := range platform.Tags(cfg.ClusterName) {
		tags[k] = jsii.String(v)
	}
	props := func(description string) awscdk.StackProps {
		return awscdk.StackProps{
			Env:         env,
			Description: jsii.String(description),
			Tags:        &tags,
		}
	}

	network := stacks.NewNetworkStack(app, networkStackID, &stacks.NetworkStackProps{
		StackProps:  props("hybrid-llm-platform: VPC, subnets tagged for load balancers and Karpenter"),
		ClusterName: cfg.ClusterName,
		Network:     cfg.Network,
		Sweeper:     cfg.Sweeper,
	})
	cluster := stacks.NewClusterStack(app, clusterStackID, &stacks.ClusterStackProps{
		StackProps:          props("hybrid-llm-platform: EKS control plane, OIDC provider, node role"),
		Vpc:                 network.Vpc,
		ClusterName:         cfg.ClusterName,
		KubernetesVersion:   cfg.KubernetesVersion,
		EndpointPublicCidrs: cfg.EndpointPublicCidrs,
		AdminPrincipalArn:   cfg.AdminPrincipalArn,

		ControlPlaneLogRetentionDays: cfg.ControlPlaneLogRetentionDays,
	})
	nodeGroups := stacks.NewNodeGroupStack(app, nodeGroupsStackID, &stacks.NodeGroupStackProps{
		StackProps:        props("hybrid-llm-platform: system (CPU) and GPU managed node groups"),
		Cluster:           cluster.Cluster,
		NodeRole:          cluster.NodeRole,
		System:            cfg.SystemNodeGroup,
		GPU:               cfg.GPUNodeGroup,
		KubernetesVersion: cfg.KubernetesVersion,
	})
	addons := stacks.NewAddonsStack(app, addonsStackID, &stacks.AddonsStackProps{
		StackProps:             props("hybrid-llm-platform: Load Balancer Controller, Karpenter and its node pools, NVIDIA device plugin"),
		Cluster:                cluster.Cluster,
		Vpc:                    network.Vpc,
		ClusterName:            cfg.ClusterName,
		KubernetesVersion:      cfg.KubernetesVersion,
		Identity:               cfg.Identity,
		LoadBalancerController: cfg.LoadBalancerController,
		Karpenter:              cfg.Karpenter,
		Sweeper:                cfg.Sweeper,
	})
	addons.Stack.AddStackDependency(nodeGroups.Stack, jsii.String("controllers run on the system node group"))
	if cfg.CDKNag.Enabled {
		// AwsSolutions over every stack: each finding is fixed or suppressed
		// with a reason next to the resource it concerns (see internal/nag).
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	}
	return &appStacks{Network: network, Cluster: cluster, NodeGroups: nodeGroups, Addons: addons}
}
