package karpenter_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/karpenter"
	"github.com/hybrid-llm/platform/internal/refpolicy"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

const pinned = "1.14.1"

var env = cdktest.Env()

// norm normalizes IAM statements for comparison with upstream's: the
// imported cluster name shows as "${ImportedClusterName}", condition value
// lists are compared as sets.
var norm = cdktest.Statements{ImportValue: "${ImportedClusterName}", SortConditionValues: true}

// fixture is a test app: a cluster stack and a second stack holding the
// Karpenter AWS pieces, as the app composes them.
type fixture struct {
	stack     awscdk.Stack
	nodeRole  *karpenter.NodeRole
	queue     *karpenter.InterruptionQueue
	tpl       assertions.Template
	json      map[string]any
	clusterTp assertions.Template
}

// logicalID returns the logical id of a construct's default CloudFormation resource.
func (f *fixture) logicalID(c constructs.Construct) string {
	return *f.stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// newFixtures builds one app with a real EKS cluster stack and two addon
// stacks, both given the cluster name "llm": "Addons" on the real cluster
// (so cluster references are cross-stack imports), "Literal" on a cluster
// imported by name. Every stack is built before the first template is taken.
func newFixtures(t *testing.T, context map[string]any) (addons, literal *fixture) {
	t.Helper()
	a := cdktest.NewClusterApp(t, &cdktest.ClusterAppOptions{Context: context})
	build := func(stack awscdk.Stack, c awseksv2.ICluster, name string) *fixture {
		nodeRole := karpenter.NewNodeRole(stack, "NodeRole", &karpenter.NodeRoleProps{Cluster: c})
		queue := karpenter.NewInterruptionQueue(stack, "Interruption")
		doc, err := karpenter.ControllerPolicyDocument(&karpenter.ControllerPolicyProps{
			Version:     pinned,
			ClusterName: name,
			NodeRole:    nodeRole.Role,
			Queue:       queue.Queue,
		})
		if err != nil {
			t.Fatalf("ControllerPolicyDocument: %v", err)
		}
		role := awsiam.NewRole(stack, jsii.String("ControllerRole"), &awsiam.RoleProps{
			AssumedBy: awsiam.NewServicePrincipal(jsii.String("pods.eks.amazonaws.com"), nil),
		})
		awsiam.NewPolicy(stack, jsii.String("ControllerPolicy"), &awsiam.PolicyProps{
			Document: doc, Roles: &[]awsiam.IRole{role},
		})
		return &fixture{stack: stack, nodeRole: nodeRole, queue: queue}
	}
	addons = build(a.Stack, a.Cluster, "llm")
	imported := awseksv2.Cluster_FromClusterAttributes(a.ClusterStack, jsii.String("Imported"), &awseksv2.ClusterAttributes{
		ClusterName: jsii.String("llm"),
	})
	literal = build(awscdk.NewStack(a.App, jsii.String("Literal"), &awscdk.StackProps{Env: env}), imported, "llm")

	clusterTpl := assertions.Template_FromStack(a.ClusterStack, nil)
	for _, f := range []*fixture{addons, literal} {
		f.tpl = assertions.Template_FromStack(f.stack, nil)
		f.json = cdktest.Plain(t, f.tpl.ToJSON()).(map[string]any)
		f.clusterTp = clusterTpl
	}
	return addons, literal
}

// resources returns the resources of type typ in the template.
func (f *fixture) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range f.json["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// controllerStatements returns the statements of the controller's AWS::IAM::Policy.
func (f *fixture) controllerStatements(t *testing.T) []any {
	t.Helper()
	for _, r := range f.resources("AWS::IAM::Policy") {
		doc := r["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
		raw, _ := json.Marshal(doc)
		if strings.Contains(string(raw), "iam:PassRole") {
			return doc["Statement"].([]any)
		}
	}
	t.Fatal("no AWS::IAM::Policy with iam:PassRole found")
	return nil
}

// referenceStatements returns upstream's statements with placeholders
// replaced as the stack must render them.
func referenceStatements(t *testing.T, f *fixture, clusterName string) []any {
	t.Helper()
	ref, err := karpenter.LoadReference(pinned)
	if err != nil {
		t.Fatal(err)
	}
	var statements []any
	for _, p := range ref.Policies {
		statements = append(statements, p.Document["Statement"].([]any)...)
	}
	raw, _ := json.Marshal(statements)
	s := strings.NewReplacer(
		"${ClusterName}", clusterName,
		"${KarpenterNodeRole.Arn}", "${"+f.logicalID(f.nodeRole.Role)+".Arn}",
		"${KarpenterInterruptionQueue.Arn}", "${"+f.logicalID(f.queue.Queue)+".Arn}",
	).Replace(string(raw))
	var out []any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// validPolicyProps builds an addons stack on its own holding an imported
// cluster "llm", a node role and an interruption queue, and returns a
// function that returns fresh valid ControllerPolicyProps for them.
func validPolicyProps(t *testing.T) func() *karpenter.ControllerPolicyProps {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Addons"), &awscdk.StackProps{Env: env})
	cluster := awseksv2.Cluster_FromClusterAttributes(stack, jsii.String("Cluster"), &awseksv2.ClusterAttributes{ClusterName: jsii.String("llm")})
	nodeRole := karpenter.NewNodeRole(stack, "NodeRole", &karpenter.NodeRoleProps{Cluster: cluster})
	queue := karpenter.NewInterruptionQueue(stack, "Interruption")
	return func() *karpenter.ControllerPolicyProps {
		return &karpenter.ControllerPolicyProps{Version: pinned, ClusterName: "llm", NodeRole: nodeRole.Role, Queue: queue.Queue}
	}
}

func TestControllerPolicyErrors(t *testing.T) {
	valid := validPolicyProps(t)
	tests := []struct {
		name   string
		mutate func(p *karpenter.ControllerPolicyProps)
		want   string
	}{
		{"unknown version", func(p *karpenter.ControllerPolicyProps) { p.Version = "1.13.0" },
			`karpenter: no controller policy embedded for Karpenter version "1.13.0" (supported: 1.14.1)`},
		{"v-prefixed version", func(p *karpenter.ControllerPolicyProps) { p.Version = "v1.14.1" },
			`karpenter: no controller policy embedded for Karpenter version "v1.14.1" (supported: 1.14.1)`},
		{"missing version", func(p *karpenter.ControllerPolicyProps) { p.Version = "" },
			`karpenter: ControllerPolicyProps.Version is required`},
		{"missing cluster name", func(p *karpenter.ControllerPolicyProps) { p.ClusterName = "" },
			`karpenter: ControllerPolicyProps.ClusterName is required`},
		{"token cluster name", func(p *karpenter.ControllerPolicyProps) { p.ClusterName = *awscdk.Aws_STACK_NAME() },
			`karpenter: ControllerPolicyProps.ClusterName must be a plain string, not a token: IAM condition keys such as aws:ResourceTag/kubernetes.io/cluster/<name> contain it`},
		{"missing node role", func(p *karpenter.ControllerPolicyProps) { p.NodeRole = nil },
			`karpenter: ControllerPolicyProps.NodeRole is required`},
		{"missing queue", func(p *karpenter.ControllerPolicyProps) { p.Queue = nil },
			`karpenter: ControllerPolicyProps.Queue is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.mutate(p)
			doc, err := karpenter.ControllerPolicyDocument(p)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if doc != nil {
				t.Error("a document was returned with the error")
			}
		})
	}
}

func TestReference(t *testing.T) {
	ref, err := karpenter.LoadReference(pinned)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := karpenter.ReferenceActions(pinned)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	statements := 0
	for _, p := range ref.Policies {
		names = append(names, p.Name)
		statements += len(p.Document["Statement"].([]any))
	}
	has := func(a string) bool { i := sort.SearchStrings(acts, a); return i < len(acts) && acts[i] == a }
	checkCases(t, []gotWant{
		{"supported versions", karpenter.SupportedVersions(), []string{"1.14.1"}},
		{"source is the tagged upstream template", ref.Source,
			"https://github.com/aws/karpenter-provider-aws/blob/v1.14.1/website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml"},
		{"upstream managed policies", names, []string{
			"KarpenterControllerNodeLifecyclePolicy", "KarpenterControllerIAMIntegrationPolicy",
			"KarpenterControllerEKSIntegrationPolicy", "KarpenterControllerInterruptionPolicy",
			"KarpenterControllerZonalShiftPolicy", "KarpenterControllerResourceDiscoveryPolicy"}},
		{"18 statements", statements, 18},
		{"32 distinct actions", len(acts), 32},
		{"instance profile actions", has("iam:CreateInstanceProfile") && has("iam:AddRoleToInstanceProfile") &&
			has("iam:TagInstanceProfile") && has("iam:DeleteInstanceProfile") && has("iam:GetInstanceProfile"), true},
		{"eks:DescribeCluster", has("eks:DescribeCluster"), true},
		{"ec2:DescribeInstanceStatus", has("ec2:DescribeInstanceStatus"), true},
	})
}

func TestControllerPolicy(t *testing.T) {
	addons, literal := newFixtures(t, map[string]any{})
	refActions, err := karpenter.ReferenceActions(pinned)
	if err != nil {
		t.Fatal(err)
	}
	litStatements := literal.controllerStatements(t)
	addonsStatements := addons.controllerStatements(t)
	nodeRoleArn := "${" + literal.logicalID(literal.nodeRole.Role) + ".Arn}"

	var passRole []map[string]any
	for _, s := range norm.Flatten(litStatements).([]any) {
		st := s.(map[string]any)
		for _, a := range cdktest.SortedSet(st["Action"]) {
			if a == "iam:PassRole" || a == "iam:*" || a == "*" {
				passRole = append(passRole, st)
			}
		}
	}
	// onePassRole returns a field of the one PassRole statement, or a value
	// that fails the comparison (not a panic) when there is not exactly one.
	onePassRole := func(key string) any {
		if len(passRole) != 1 {
			return fmt.Sprintf("(%d PassRole statements)", len(passRole))
		}
		return passRole[0][key]
	}
	_, minimized := newFixtures(t, map[string]any{"@aws-cdk/aws-iam:minimizePolicies": true})
	minStatements := minimized.controllerStatements(t)
	sids := map[any]bool{}
	for _, s := range litStatements {
		sids[s.(map[string]any)["Sid"]] = true
	}
	addonsJSON, _ := json.Marshal(addons.json)
	litJSON, _ := json.Marshal(literal.json)
	policiesJSON, _ := json.Marshal([]any{litStatements, addonsStatements})

	checkCases(t, []gotWant{
		{"literal name: statements equal upstream (actions, resources, tag conditions)",
			norm.Canonical(t, litStatements), norm.Canonical(t, referenceStatements(t, literal, "llm"))},
		{"literal name: actions equal upstream", refpolicy.Actions(litStatements), refActions},
		{"cross-stack cluster: statements equal upstream", norm.Canonical(t, addonsStatements), norm.Canonical(t, referenceStatements(t, addons, "llm"))},
		{"minimizePolicies: statements still equal upstream",
			norm.Canonical(t, minStatements), norm.Canonical(t, referenceStatements(t, minimized, "llm"))},
		{"upstream Sids kept and unique", len(sids), len(litStatements)},
		{"PassRole in exactly one statement", len(passRole), 1},
		{"PassRole only on the node role", onePassRole("Resource"), nodeRoleArn},
		{"PassRole only to EC2 (upstream lists both EC2 principals)", onePassRole("Condition"),
			map[string]any{"StringEquals": map[string]any{"iam:PassedToService": []any{"ec2.amazonaws.com", "ec2.amazonaws.com.cn"}}}},
		{"literal name: cluster tag condition key rendered", strings.Contains(string(litJSON), `"aws:ResourceTag/kubernetes.io/cluster/llm":"owned"`), true},
		{"no CfnJson needed", len(literal.resources("Custom::AWSCDKCfnJson")) + len(addons.resources("Custom::AWSCDKCfnJson")), 0},
		{"cross-stack cluster: the cluster name stays literal", strings.Contains(string(addonsJSON), `"aws:ResourceTag/kubernetes.io/cluster/llm":"owned"`), true},
		{"no unrendered placeholder", strings.Contains(string(policiesJSON), "${"), false},
		{"no hard-coded partition", strings.Contains(string(litJSON), "arn:aws:"), false},
	})
}

func TestNodeRole(t *testing.T) {
	addons, _ := newFixtures(t, map[string]any{})
	// KarpenterNodeRole's ManagedPolicyArns in Karpenter v1.14.1's
	// getting-started template (website/content/en/docs/getting-started/
	// getting-started-with-karpenter/cloudformation.yaml).
	upstream := []string{"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"}
	var arns []any
	for _, p := range upstream {
		arns = append(arns, map[string]any{"Fn::Join": []any{"", []any{
			"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/" + p}}})
	}
	roleID := addons.logicalID(addons.nodeRole.Role)
	tests := []struct {
		name  string
		typ   string
		props map[string]any
	}{
		{"trusted by EC2 only", "AWS::IAM::Role", map[string]any{
			"AssumeRolePolicyDocument": assertions.Match_ObjectEquals(&map[string]any{"Statement": []any{map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "ec2.amazonaws.com"},
			}}, "Version": "2012-10-17"}),
			"ManagedPolicyArns": assertions.Match_AnyValue(),
		}},
		{"four managed policies", "AWS::IAM::Role", map[string]any{
			"AssumeRolePolicyDocument": assertions.Match_AnyValue(),
			"ManagedPolicyArns":        arns,
		}},
		{"EC2_LINUX access entry for the role", "AWS::EKS::AccessEntry", map[string]any{
			"Type":           "EC2_LINUX",
			"PrincipalArn":   map[string]any{"Fn::GetAtt": []any{roleID, "Arn"}},
			"ClusterName":    map[string]any{"Fn::ImportValue": assertions.Match_AnyValue()},
			"AccessPolicies": assertions.Match_Absent(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdktest.Check(t, tt.name, func() {
				addons.tpl.HasResourceProperties(jsii.String(tt.typ), assertions.Match_ObjectLike(&tt.props))
			})
		})
	}
	t.Run("one access entry, in the addons stack only", func(t *testing.T) {
		cdktest.Check(t, "addons", func() { addons.tpl.ResourceCountIs(jsii.String("AWS::EKS::AccessEntry"), jsii.Number(1)) })
		cdktest.Check(t, "cluster", func() {
			addons.clusterTp.ResourcePropertiesCountIs(jsii.String("AWS::EKS::AccessEntry"),
				&map[string]any{"Type": "EC2_LINUX"}, jsii.Number(0))
		})
	})
	t.Run("missing cluster panics", func(t *testing.T) {
		app := cdktest.NewApp(t, nil)
		stack := awscdk.NewStack(app, jsii.String("S"), &awscdk.StackProps{Env: env})
		defer func() {
			want := `karpenter: NodeRole "NodeRole" needs props.Cluster`
			if r := recover(); r != want {
				t.Errorf("panic = %v, want %q", r, want)
			}
		}()
		karpenter.NewNodeRole(stack, "NodeRole", &karpenter.NodeRoleProps{})
	})
}

func TestInterruptionQueue(t *testing.T) {
	addons, _ := newFixtures(t, map[string]any{})
	queueArn := map[string]any{"Fn::GetAtt": []any{addons.logicalID(addons.queue.Queue), "Arn"}}
	t.Run("queue", func(t *testing.T) {
		cdktest.Check(t, "queue", func() {
			addons.tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), &map[string]any{
				"MessageRetentionPeriod": 300,
				"SqsManagedSseEnabled":   true,
			})
		})
	})
	t.Run("queue policy: SendMessage for EventBridge and SQS, deny without TLS, nothing else", func(t *testing.T) {
		cdktest.Check(t, "policy", func() {
			addons.tpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), &map[string]any{
				"PolicyDocument": map[string]any{"Statement": []any{
					map[string]any{
						"Action":    "sqs:*",
						"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
						"Effect":    "Deny",
						"Principal": map[string]any{"AWS": "*"},
						"Resource":  queueArn,
					},
					map[string]any{
						"Action":    "sqs:SendMessage",
						"Effect":    "Allow",
						"Principal": map[string]any{"Service": []any{"events.amazonaws.com", "sqs.amazonaws.com"}},
						"Resource":  queueArn,
					},
				}, "Version": "2012-10-17"},
			})
		})
	})
	t.Run("five rules", func(t *testing.T) {
		cdktest.Check(t, "count", func() { addons.tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(5)) })
	})
	upstream := upstreamInterruptionEvents(t)
	t.Run("event table matches upstream 1.14.1", func(t *testing.T) {
		if got := karpenter.InterruptionEvents(); !reflect.DeepEqual(got, upstream) {
			t.Errorf("got %v, want upstream's %v", got, upstream)
		}
	})
	for _, ev := range upstream {
		t.Run("rule "+ev.DetailType, func(t *testing.T) {
			cdktest.Check(t, ev.DetailType, func() {
				addons.tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), assertions.Match_ObjectEquals(&map[string]any{
					"EventPattern": map[string]any{"source": []any{ev.Source}, "detail-type": []any{ev.DetailType}},
					"State":        "ENABLED",
					"Targets":      []any{map[string]any{"Arn": queueArn, "Id": "Target0"}},
				}))
			})
		})
	}
}

// upstreamInterruptionEvents reads the EventBridge rules of Karpenter
// 1.14.1's getting-started template, kept as test data with their source
// (testdata/interruption-rules-1.14.1.json), as InterruptionEvents.
func upstreamInterruptionEvents(t *testing.T) []karpenter.InterruptionEvent {
	t.Helper()
	raw, err := os.ReadFile("testdata/interruption-rules-" + pinned + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string
		Rules   []struct{ Resource, Source, DetailType string }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != pinned || len(doc.Rules) == 0 {
		t.Fatalf("interruption rules of version %q (%d rules), want %s", doc.Version, len(doc.Rules), pinned)
	}
	var events []karpenter.InterruptionEvent
	for _, r := range doc.Rules {
		events = append(events, karpenter.InterruptionEvent{ID: strings.TrimSuffix(r.Resource, "Rule"), Source: r.Source, DetailType: r.DetailType})
	}
	return events
}

// gotWant is one case of a table of computed values and their expectations.
type gotWant struct {
	name      string
	got, want any
}

// checkCases runs each case as a subtest comparing got and want deeply.
func checkCases(t *testing.T, cases []gotWant) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got  %v\nwant %v", tt.got, tt.want)
			}
		})
	}
}
