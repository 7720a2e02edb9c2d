package lbcontroller_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/lbcontroller"
	"github.com/hybrid-llm/platform/internal/refpolicy"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

const pinned = "v3.5.0"

// synthPolicy attaches the controller policy of version to a role in a test
// stack and returns the synthesized AWS::IAM::Policy document.
func synthPolicy(t *testing.T, version string, context map[string]any) map[string]any {
	t.Helper()
	doc, err := lbcontroller.PolicyDocument(version)
	if err != nil {
		t.Fatalf("PolicyDocument(%q): %v", version, err)
	}
	ctx := map[string]any{}
	for k, v := range context {
		ctx[k] = v
	}
	app := cdktest.NewApp(t, &awscdk.AppProps{Context: &ctx})
	stack := awscdk.NewStack(app, jsii.String("Addons"), &awscdk.StackProps{
		Env: cdktest.Env(),
	})
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
	})
	awsiam.NewPolicy(stack, jsii.String("Policy"), &awsiam.PolicyProps{
		Document: doc,
		Roles:    &[]awsiam.IRole{role},
	})
	tpl := assertions.Template_FromStack(stack, nil)
	found := *tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil)
	if len(found) != 1 {
		t.Fatalf("want 1 AWS::IAM::Policy, got %d", len(found))
	}
	for _, r := range found {
		res := cdktest.Plain(t, r).(map[string]any)
		return res["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
	}
	return nil
}

func TestPolicyDocumentErrors(t *testing.T) {
	tests := []struct {
		name    string
		version string
		want    string
	}{
		{"unknown version", "v2.17.1", `lbcontroller: no IAM policy embedded for controller version "v2.17.1" (supported: v3.5.0)`},
		{"version without v prefix", "3.5.0", `lbcontroller: no IAM policy embedded for controller version "3.5.0" (supported: v3.5.0)`},
		{"empty version", "", `lbcontroller: no IAM policy embedded for controller version "" (supported: v3.5.0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := lbcontroller.PolicyDocument(tt.version)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("PolicyDocument(%q) error = %v, want %q", tt.version, err, tt.want)
			}
			if doc != nil {
				t.Errorf("PolicyDocument(%q) returned a document with the error", tt.version)
			}
			if _, err := lbcontroller.ReferenceActions(tt.version); err == nil || err.Error() != tt.want {
				t.Errorf("ReferenceActions(%q) error = %v, want %q", tt.version, err, tt.want)
			}
		})
	}
}

func TestReference(t *testing.T) {
	doc, source, err := lbcontroller.ReferenceDocument(pinned)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := lbcontroller.ReferenceActions(pinned)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"supported versions", lbcontroller.SupportedVersions(), []string{"v3.5.0"}},
		{"source is the tagged upstream file", source, "https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/v3.5.0/docs/install/iam_policy.json"},
		{"16 statements", len(doc["Statement"].([]any)), 16},
		{"80 distinct actions", len(acts), 80},
		{"no wildcard actions", strings.Contains(strings.Join(acts, ","), "*"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestSynthesizedPolicy(t *testing.T) {
	ref, _, err := lbcontroller.ReferenceDocument(pinned)
	if err != nil {
		t.Fatal(err)
	}
	refActions, err := lbcontroller.ReferenceActions(pinned)
	if err != nil {
		t.Fatal(err)
	}
	plain := synthPolicy(t, pinned, nil)
	minimized := synthPolicy(t, pinned, map[string]any{"@aws-cdk/aws-iam:minimizePolicies": true})

	// The reference as it must synthesize: partition taken from the stack.
	var refPartitioned map[string]any
	raw, _ := json.Marshal(ref)
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), `"arn:aws:`, `"arn:${AWS::Partition}:`)), &refPartitioned); err != nil {
		t.Fatal(err)
	}
	plainJSON, _ := json.Marshal(plain)

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"statements equal upstream (actions, resources, conditions)",
			cdktest.Statements{}.Canonical(t, plain["Statement"].([]any)), cdktest.Statements{}.Canonical(t, refPartitioned["Statement"].([]any))},
		{"actions equal upstream", refpolicy.Actions(plain["Statement"].([]any)), refActions},
		{"actions equal upstream with minimizePolicies", refpolicy.Actions(minimized["Statement"].([]any)), refActions},
		{"no hard-coded aws partition", strings.Contains(string(plainJSON), "arn:aws:"), false},
		{"partition pseudo parameter used", strings.Contains(string(plainJSON), `{"Ref":"AWS::Partition"}`), true},
		{"cluster tag condition kept", strings.Contains(string(plainJSON), `"aws:ResourceTag/elbv2.k8s.aws/cluster":"false"`), true},
		{"service-linked role only for ELB", strings.Contains(string(plainJSON), `"iam:AWSServiceName":"elasticloadbalancing.amazonaws.com"`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got  %v\nwant %v", tt.got, tt.want)
			}
		})
	}
}
