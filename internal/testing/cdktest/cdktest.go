package cdktest

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/kubectllayer"
)

// NewApp returns an App that synthesizes into a directory of the test's own,
// removed when the test ends. An App without Outdir synthesizes into a new
// /tmp/cdk.outXXXX that nothing removes (about 70 MB for an app with the EKS
// cluster's assets): hundreds of test runs filled this machine's disk.
//
// Unless props set BuiltinCloudFormationValidation, the App skips
// aws-cdk-lib's built-in CloudFormation validation: in a test fixture without
// cdk.json's "@aws-cdk/core:validateAgainstDefaultRules" its findings are only
// warnings nobody reads, so it could fail no test, and it cost about 1.5 s of
// every synthesis (a construct package's tests ran 4x longer with it). The
// real app's templates are validated, with findings as errors, by the root
// package's tests (TestBuiltinValidationRunsOnEveryAppSynthesis).
func NewApp(t testing.TB, props *awscdk.AppProps) awscdk.App {
	t.Helper()
	p := awscdk.AppProps{}
	if props != nil {
		p = *props
	}
	if p.Outdir == nil {
		p.Outdir = jsii.String(t.TempDir())
	}
	if p.BuiltinCloudFormationValidation == nil {
		p.BuiltinCloudFormationValidation = jsii.Bool(false)
	}
	return awscdk.NewApp(&p)
}

// Main is TestMain for packages whose tests drive jsii: it runs the tests,
// then stops the jsii kernel, which removes the runtime it unpacked under
// /tmp/jsii-runtime.* (about 220 MB, left behind when the process just exits).
func Main(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// Env returns the explicit account and region of every test stack, so tests
// synthesize offline and never need credentials.
func Env() *awscdk.Environment {
	return &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-west-2")}
}

// ClusterApp is a test app shaped like the platform: a real EKS cluster in
// the stack "Cluster" and a second stack "Addons" for the constructs under
// test.
type ClusterApp struct {
	// App is the test app; add further stacks to it before taking the first
	// template.
	App awscdk.App
	// ClusterStack is the stack "Cluster" that holds Cluster.
	ClusterStack awscdk.Stack
	// Stack is the stack "Addons" for the constructs under test.
	Stack awscdk.Stack
	// Cluster is the EKS cluster (Kubernetes 1.35, no default capacity, API
	// authentication mode).
	Cluster awseksv2.Cluster
}

// ClusterAppOptions varies the test app. A nil *ClusterAppOptions means all
// defaults.
type ClusterAppOptions struct {
	// Context is the app's context (e.g. feature flags). Default: an app
	// built without props.
	Context map[string]any
	// ClusterName is the cluster's physical name. Default: none, so
	// CloudFormation generates one.
	ClusterName string
	// OIDCProvider creates the cluster's IAM OIDC provider in the cluster
	// stack, as the app's cluster stack does; IRSA needs it. Default: not
	// created.
	OIDCProvider bool
}

// NewClusterApp builds a ClusterApp.
func NewClusterApp(t *testing.T, opts *ClusterAppOptions) *ClusterApp {
	t.Helper()
	if opts == nil {
		opts = &ClusterAppOptions{}
	}
	var props *awscdk.AppProps
	if opts.Context != nil {
		props = &awscdk.AppProps{Context: &opts.Context}
	}
	app := NewApp(t, props)
	clusterStack := awscdk.NewStack(app, jsii.String("Cluster"), &awscdk.StackProps{Env: Env()})
	clusterProps := &awseksv2.ClusterProps{
		Version: awseksv2.KubernetesVersion_Of(jsii.String("1.35")),
		KubectlProviderOptions: &awseksv2.KubectlProviderOptions{
			KubectlLayer: kubectllayer.New(clusterStack, "KubectlLayer"),
		},
		DefaultCapacityType: awseksv2.DefaultCapacityType_NODEGROUP,
		DefaultCapacity:     jsii.Number(0),
	}
	if opts.ClusterName != "" {
		clusterProps.ClusterName = jsii.String(opts.ClusterName)
	}
	cluster := awseksv2.NewCluster(clusterStack, jsii.String("Cluster"), clusterProps)
	if opts.OIDCProvider {
		cluster.OpenIdConnectProvider() // the app's cluster stack owns the provider
	}
	stack := awscdk.NewStack(app, jsii.String("Addons"), &awscdk.StackProps{Env: Env()})
	return &ClusterApp{App: app, ClusterStack: clusterStack, Stack: stack, Cluster: cluster}
}

// NewIRSAClusterApp is NewClusterApp with the cluster's OIDC provider in the
// cluster stack, as the app's cluster stack creates it: the app that
// constructs using IRSA are tested in.
func NewIRSAClusterApp(t *testing.T) *ClusterApp {
	t.Helper()
	return NewClusterApp(t, &ClusterAppOptions{OIDCProvider: true})
}

// Check runs f, typically a jsii assertion, and turns its panic (the
// AssertionError text) into a test error named name, so one failed
// assertion does not hide the rest.
func Check(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", name, r)
		}
	}()
	f()
}

// PanicText runs f and returns the text of its panic ("" if none).
func PanicText(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// Plain turns a jsii-returned value into plain JSON values (maps, slices,
// strings, float64s, bools).
func Plain(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Resources returns the resources of type typ in tpl by logical id, as
// plain JSON.
func Resources(t *testing.T, tpl assertions.Template, typ string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range *tpl.FindResources(jsii.String(typ), nil) {
		out[id] = Plain(t, r).(map[string]any)
	}
	return out
}
