package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/internal/cfntemplate"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// update rewrites the golden files: npm run golden
var update = flag.Bool("update", false, "update golden files in testdata/")

// stackIDs are the app's stacks in deployment order.
var stackIDs = []string{networkStackID, clusterStackID, nodeGroupsStackID, addonsStackID}

// synthesized is one whole-app synthesis: the app, its stacks and templates.
type synthesized struct {
	cfg       config.Config
	app       awscdk.App
	platform  *appStacks
	templates map[string]assertions.Template
	// outputs are the stacks' output values by the placeholder that
	// references them (resolver); filled on first use.
	outputs map[string]any
}

// defaults is the app synthesized once per test binary from cdk.json alone,
// exactly what `cdk synth` builds.
var defaults *synthesized

// assemblies is the directory of the cloud assemblies that live for the whole
// test binary (every app synthesizeOnce builds); removed by TestMain.
var assemblies string

// syntheses holds every whole-app synthesis of this test binary by its
// configuration, so tests that need the same configuration (spelled with the
// same or different overrides) share one synthesis: a synthesis of the whole
// app, with aws-cdk-lib's built-in validation, costs seconds.
var (
	synthesesMu sync.Mutex
	syntheses   = map[string]*synthesized{}
)

// podIdentity returns the app synthesized with identity=podIdentity.
func podIdentity(t testing.TB) *synthesized {
	t.Helper()
	return mustSynthesize(t, map[string]any{"hybridLlm.identity": config.IdentityPodIdentity})
}

func TestMain(m *testing.M) {
	flag.Parse()
	if err := cdktest.CheckNode(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The apps' cloud assemblies live for the whole binary (syntheses), so
	// they cannot use a test's TempDir; removed below (os.Exit skips defers).
	outdir, err := os.MkdirTemp("", "hybrid-llm-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	assemblies = outdir
	code := 1
	if defaults, err = synthesizeOnce(nil); err != nil {
		fmt.Fprintln(os.Stderr, "synthesizing the default app:", err)
	} else {
		code = m.Run()
	}
	jsii.Close()
	os.RemoveAll(outdir)
	os.Exit(code)
}

// cdkJSONContext returns the context of cdk.json: feature flags and the
// default configuration, so tests synthesize what `cdk synth` does.
func cdkJSONContext() (map[string]any, error) {
	raw, err := os.ReadFile("cdk.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parsing cdk.json: %w", err)
	}
	return doc.Context, nil
}

// synthesize builds the whole app of configuration cfg (loaded from the
// context ctx, which the App also gets, as the CLI passes it) into outdir and
// takes every stack's template.
func synthesize(ctx map[string]any, cfg config.Config, outdir string) *synthesized {
	app := newSynthApp(ctx, outdir)
	p := newApp(app, cfg)
	s := &synthesized{cfg: cfg, app: app, platform: p, templates: map[string]assertions.Template{}}
	// Every stack exists before the first template is taken.
	for _, st := range []awscdk.Stack{p.Network.Stack, p.Cluster.Stack, p.NodeGroups.Stack, p.Addons.Stack} {
		s.templates[*st.StackName()] = assertions.Template_FromStack(st, nil)
	}
	return s
}

// newSynthApp is the App of a whole-app test synthesis: the context ctx and
// aws-cdk-lib's defaults, the built-in CloudFormation validation included
// (TestBuiltinValidationRunsOnEveryAppSynthesis), as `cdk synth` runs it.
func newSynthApp(ctx map[string]any, outdir string) awscdk.App {
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
}

// synthesizeOnce returns the whole app built from cdk.json's context plus
// overrides, synthesized once per test binary for each distinct
// configuration (see syntheses) into a directory under assemblies.
func synthesizeOnce(overrides map[string]any) (*synthesized, error) {
	ctx, err := cdkJSONContext()
	if err != nil {
		return nil, err
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, err
	}
	// The key is the configuration and any other context (feature flags)
	// the overrides set.
	other := map[string]any{}
	for k, v := range overrides {
		if k != config.ContextKey && !strings.HasPrefix(k, config.ContextKey+".") {
			other[k] = v
		}
	}
	key, err := json.Marshal(struct {
		Config  config.Config
		Context map[string]any
	}{cfg, other})
	if err != nil {
		return nil, fmt.Errorf("configuration as a key: %w", err)
	}
	synthesesMu.Lock()
	defer synthesesMu.Unlock()
	if s, ok := syntheses[string(key)]; ok {
		return s, nil
	}
	s := synthesize(ctx, cfg, filepath.Join(assemblies, fmt.Sprintf("app-%d", len(syntheses))))
	syntheses[string(key)] = s
	return s, nil
}

// mustSynthesize is synthesizeOnce for tests that need a non-default app.
func mustSynthesize(t testing.TB, overrides map[string]any) *synthesized {
	t.Helper()
	s, err := synthesizeOnce(overrides)
	if err != nil {
		t.Fatalf("synthesizing with %v: %v", overrides, err)
	}
	return s
}

// resolver resolves the intrinsics of s's templates as cdktest.Resolve does,
// and follows a cross-stack reference (Fn::ImportValue, Fn::GetStackOutput)
// to the value the other stack outputs: an imported subnet id resolves to
// "${<subnet's logical id>}" of the network stack.
func (s *synthesized) resolver(t *testing.T) cdktest.Resolver {
	t.Helper()
	if s.outputs == nil {
		s.outputs = map[string]any{}
		for stack, tpl := range s.templates {
			doc, _ := cdktest.Plain(t, tpl.ToJSON()).(map[string]any)
			outputs, _ := doc["Outputs"].(map[string]any)
			for name, o := range outputs {
				out, _ := o.(map[string]any)
				s.outputs["${"+stack+"."+name+"}"] = out["Value"]
				if export, ok := out["Export"].(map[string]any); ok {
					s.outputs[fmt.Sprintf("${import:%v}", export["Name"])] = out["Value"]
				}
			}
		}
	}
	var r cdktest.Resolver
	r.Value = func(placeholder string) string {
		if v, ok := s.outputs[placeholder]; ok {
			return fmt.Sprint(r.Resolve(v))
		}
		return placeholder
	}
	return r
}

// ref is how s.resolver renders a reference to the resource logicalID
// (attribute "" for a Ref).
func ref(logicalID, attribute string) string {
	if attribute == "" {
		return "${" + logicalID + "}"
	}
	return "${" + logicalID + "." + attribute + "}"
}

// sameSet reports whether got is a list holding exactly the elements of want,
// in any order.
func sameSet(got any, want []any) bool {
	l, _ := got.([]any)
	key := func(v []any) []string {
		var out []string
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(key(l), key(want))
}

// logicalIDs returns the logical ids of the CloudFormation resources of type
// typ in the construct subtree of scope, sorted: how a test finds what a
// construct created without spelling logical ids.
func logicalIDs(scope constructs.IConstruct, typ string) []string {
	var ids []string
	for _, c := range *scope.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !*awscdk.CfnResource_IsCfnResource(c) {
			continue
		}
		r := c.(awscdk.CfnResource)
		if *r.CfnResourceType() == typ {
			ids = append(ids, *awscdk.Stack_Of(r).GetLogicalId(r))
		}
	}
	sort.Strings(ids)
	return ids
}

// tagsOf returns a resource's Tags as key -> value.
func tagsOf(r map[string]any) map[string]any {
	out := map[string]any{}
	tags, _ := cdktest.Props(r)["Tags"].([]any)
	for _, tag := range tags {
		kv, _ := tag.(map[string]any)
		if k, ok := kv["Key"].(string); ok {
			out[k] = kv["Value"]
		}
	}
	return out
}

func TestAppHasExactlyTheFourStacksInOrder(t *testing.T) {
	var got []string
	for _, c := range *defaults.app.Node().Children() {
		if *awscdk.Stack_IsStack(c) {
			got = append(got, *c.Node().Id())
		}
	}
	if strings.Join(got, ",") != strings.Join(stackIDs, ",") {
		t.Errorf("stacks = %v, want %v", got, stackIDs)
	}
}

func TestStackDependencies(t *testing.T) {
	deps := func(st awscdk.Stack) []string {
		var ids []string
		for _, d := range *st.Dependencies() {
			ids = append(ids, *d.StackName())
		}
		sort.Strings(ids)
		return ids
	}
	p := defaults.platform
	tests := []struct {
		stack awscdk.Stack
		want  []string
	}{
		{p.Network.Stack, nil},
		{p.Cluster.Stack, []string{networkStackID}},
		{p.NodeGroups.Stack, []string{clusterStackID}},
		{p.Addons.Stack, []string{clusterStackID, nodeGroupsStackID}},
	}
	for _, tt := range tests {
		t.Run(*tt.stack.StackName(), func(t *testing.T) {
			got := deps(tt.stack)
			// The addons stack may also depend on the network stack through
			// the cluster's VPC; what matters is that nothing depends on it.
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s depends on %v, want it to include %s", *tt.stack.StackName(), got, w)
				}
			}
		})
	}
	for _, st := range []awscdk.Stack{p.Network.Stack, p.Cluster.Stack, p.NodeGroups.Stack} {
		if slices.Contains(deps(st), addonsStackID) {
			t.Errorf("%s depends on %s: a cross-stack cycle", *st.StackName(), addonsStackID)
		}
	}
}

// TestGolden compares every stack's template with testdata/<Stack>.template.json.
// After an intended change: npm run golden
// identityModes are the apps of both config.Identities, each with its golden
// templates: cdk.json as is (identity=irsa; testdata/<stack>.template.json,
// what scripts/diff-offline.sh compares) and identity=podIdentity
// (testdata/podIdentity/).
var identityModes = []struct {
	identity, goldenDir string
	app                 func(testing.TB) *synthesized
}{
	{config.IdentityIRSA, "testdata", func(testing.TB) *synthesized { return defaults }},
	{config.IdentityPodIdentity, filepath.Join("testdata", config.IdentityPodIdentity), podIdentity},
}

func TestGolden(t *testing.T) {
	for _, mode := range identityModes {
		for _, id := range stackIDs {
			t.Run(filepath.Join(mode.goldenDir, id), func(t *testing.T) {
				golden(t, mode.app(t), mode.goldenDir, id)
			})
		}
	}
}

// golden compares stack id of s with dir/<id>.template.json (or writes it
// with -update).
func golden(t *testing.T, s *synthesized, dir, id string) {
	t.Helper()
	got, err := cfntemplate.Normalize(*s.templates[id].ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, id+".template.json")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (create it with: npm run golden)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the synthesized template:\n%s\nIf the change is intended: npm run golden, then review the diff of %s",
			path, lineDiff(string(want), string(got)), path)
	}
}

// lineDiff shows the first differing lines of two texts with a little
// context: enough to see what changed without a diff library.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	// Align the tails to find where the difference ends.
	j, k := len(w)-1, len(g)-1
	for j > i && k > i && w[j] == g[k] {
		j, k = j-1, k-1
	}
	var b strings.Builder
	from := max(0, i-3)
	fmt.Fprintf(&b, "@@ golden line %d, synthesized line %d @@\n", i+1, i+1)
	for _, l := range w[from:i] {
		b.WriteString("  " + l + "\n")
	}
	for _, l := range w[i:min(j+1, i+40)] {
		b.WriteString("- " + l + "\n")
	}
	for _, l := range g[i:min(k+1, i+40)] {
		b.WriteString("+ " + l + "\n")
	}
	return b.String()
}

func TestLineDiffShowsTheChange(t *testing.T) {
	d := lineDiff("a\nb\nc\nd\n", "a\nb\nX\nd\n")
	if !strings.Contains(d, "- c") || !strings.Contains(d, "+ X") || strings.Contains(d, "- d") {
		t.Errorf("lineDiff =\n%s", d)
	}
}

// BenchmarkSynth measures a new synthesis of the four stacks of cdk.json's
// configuration, built-in validation included (what `cdk synth` costs on top
// of process start, build check and jsii start): npm run bench:synth
func BenchmarkSynth(b *testing.B) {
	ctx, err := cdkJSONContext()
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		synthesize(ctx, cfg, b.TempDir())
	}
}

// TestSynthWithAnAccountNeedsNoAWSLookup: with hybridLlm.account set, the
// stacks are account-specific and CDK would look the region's AZs up in AWS;
// the configured AZs answer that, so synth stays offline.
func TestSynthWithAnAccountNeedsNoAWSLookup(t *testing.T) {
	s := mustSynthesize(t, map[string]any{"hybridLlm.account": "123456789012"})
	asm := s.app.Synth(nil)
	// The manifest is read as JSON: jsii cannot deserialize aws-cdk-lib
	// 2.276's manifest (an artifact without templateFile) through
	// asm.Manifest().
	raw, err := os.ReadFile(filepath.Join(*asm.Directory(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Missing []struct{ Key string } `json:"missing"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatalf("parsing manifest.json: %v", err)
	}
	for _, m := range manifest.Missing {
		t.Errorf("synth needs an AWS lookup: %s", m.Key)
	}
	if got := *s.platform.Network.Stack.Account(); got != "123456789012" {
		t.Errorf("network stack account = %s", got)
	}
}

// TestAddonsDoNotChangeClusterResources builds the app with newApp but
// without the add-ons stack and compares the cluster stack's resources with
// the full app's: the add-ons may add exports (Outputs) to it, never
// resources. newApp creates the stacks in deployment order; a construct that
// already holds the add-ons stack's id makes it fail exactly where it would
// create that stack, after the network, cluster and node group stacks exist.
func TestAddonsDoNotChangeClusterResources(t *testing.T) {
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	app := cdktest.NewApp(t, &awscdk.AppProps{Context: &ctx})
	constructs.NewConstruct(app, jsii.String(addonsStackID))
	stopped := cdktest.PanicText(func() { newApp(app, defaults.cfg) })
	if !strings.Contains(stopped, "There is already a Construct with name '"+addonsStackID+"'") {
		t.Fatalf("newApp did not stop at the add-ons stack: %q", stopped)
	}
	cluster, ok := app.Node().TryFindChild(jsii.String(clusterStackID)).(awscdk.Stack)
	if !ok {
		t.Fatalf("no %s stack before the add-ons stack", clusterStackID)
	}
	alone := assertions.Template_FromStack(cluster, nil)
	resourcesJSON := func(tpl assertions.Template) string {
		m := *tpl.ToJSON()
		raw, err := cfntemplate.Normalize(map[string]any{"Resources": m["Resources"]})
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	if got, want := resourcesJSON(defaults.templates[clusterStackID]), resourcesJSON(alone); got != want {
		t.Errorf("the add-ons change the cluster stack's resources:\n%s", lineDiff(want, got))
	}
}
