package teardown_test

import (
	"debug/elf"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/teardown"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

var env = cdktest.Env()

// withCluster synthesizes the way the app uses the sweeper: the cluster in
// one stack, the sweeper in a second one, named by the cluster's token.
func withCluster(t *testing.T) (assertions.Template, *teardown.Sweeper) {
	t.Helper()
	a := cdktest.NewClusterApp(t, nil)
	s := teardown.New(a.Stack, "Sweeper", &teardown.Props{ClusterName: *a.Cluster.ClusterName()})
	return assertions.Template_FromStack(a.Stack, nil), s
}

func literal(t *testing.T, props *teardown.Props) assertions.Template {
	t.Helper()
	app := cdktest.NewApp(t, nil)
	st := awscdk.NewStack(app, jsii.String("Addons"), &awscdk.StackProps{Env: env})
	teardown.New(st, "Sweeper", props)
	return assertions.Template_FromStack(st, nil)
}

func TestNewPanicsOnMisuse(t *testing.T) {
	tests := []struct {
		name  string
		props *teardown.Props
		want  string
	}{
		{"nil props", nil, "teardown: ClusterName is required"},
		{"no cluster name", &teardown.Props{}, "teardown: ClusterName is required"},
		{"empty cluster name", &teardown.Props{ClusterName: ""}, "teardown: ClusterName is required"},
		{"malformed cluster name", &teardown.Props{ClusterName: "my cluster"}, `teardown: cluster name "my cluster" is not a valid EKS cluster name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := cdktest.NewApp(t, nil)
			st := awscdk.NewStack(app, jsii.String("S"), &awscdk.StackProps{Env: env})
			if got := cdktest.PanicText(func() { teardown.New(st, "Sweeper", tt.props) }); got != tt.want {
				t.Errorf("panic = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTemplateWithClusterToken(t *testing.T) {
	tpl, s := withCluster(t)
	if s.Function == nil || s.Provider == nil || s.Resource == nil || s.Construct == nil {
		t.Fatal("Sweeper fields not set")
	}
	cdktest.Check(t, "go function on provided.al2023 arm64", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
			"Runtime":       "provided.al2023",
			"Architectures": []any{"arm64"},
			"Handler":       "bootstrap",
			"Timeout":       300,
			"Environment": map[string]any{"Variables": map[string]any{
				"SWEEP_BUDGET_SECONDS": "2400", "SWEEP_PER_CALL_SECONDS": "120"}},
		})
	})
	cdktest.Check(t, "custom resource with ClusterName from the cluster stack", func() {
		tpl.HasResourceProperties(jsii.String(teardown.ResourceType), &map[string]any{
			"ClusterName": map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String("^Cluster:"))},
		})
		tpl.ResourceCountIs(jsii.String(teardown.ResourceType), jsii.Number(1))
	})
	cdktest.Check(t, "instance condition keyed by the cluster token goes through CfnJson", func() {
		tpl.HasResourceProperties(jsii.String("Custom::AWSCDKCfnJson"), &map[string]any{
			"Value": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
				"{\"aws:ResourceTag/kubernetes.io/cluster/",
				map[string]any{"Fn::ImportValue": assertions.Match_AnyValue()},
				"\":\"owned\"}",
			})}},
		})
		tpl.HasResourceProperties(jsii.String("Custom::AWSCDKCfnJson"), &map[string]any{
			"Value": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
				"{\"aws:ResourceTag/kubernetes.io/cluster/",
				map[string]any{"Fn::ImportValue": assertions.Match_AnyValue()},
				"\":\"false\"}",
			})}},
		})
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), &map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				map[string]any{
					"Sid":      "RevokeClusterSecurityGroupRules",
					"Action":   "ec2:RevokeSecurityGroupIngress",
					"Effect":   "Allow",
					"Resource": assertions.Match_AnyValue(),
					"Condition": map[string]any{
						"Null": map[string]any{"Fn::GetAtt": []any{assertions.Match_AnyValue(), "Value"}},
					},
				},
			})},
		})
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), &map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				map[string]any{
					"Sid":      "TerminateKarpenterInstances",
					"Action":   "ec2:TerminateInstances",
					"Effect":   "Allow",
					"Resource": assertions.Match_AnyValue(),
					"Condition": map[string]any{
						"StringEquals": map[string]any{"Fn::GetAtt": []any{assertions.Match_AnyValue(), "Value"}},
						"Null":         map[string]any{"aws:ResourceTag/karpenter.sh/nodepool": "false"},
					},
				},
			})},
		})
	})
	t.Run("waiter calls isComplete every 30s, at most 100 times", func(t *testing.T) {
		b, _ := json.Marshal(tpl.FindResources(jsii.String("AWS::StepFunctions::StateMachine"), nil))
		for _, want := range []string{`\"IntervalSeconds\":30`, `\"MaxAttempts\":100`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("state machine lacks %s: %s", want, b)
			}
		}
	})
}

// TestBundlesArm64Binary synthesizes to a directory and checks that the
// function's asset is a linux/arm64 executable named bootstrap, built with
// the local Go toolchain (no Docker).
func TestBundlesArm64Binary(t *testing.T) {
	out := t.TempDir()
	app := cdktest.NewApp(t, &awscdk.AppProps{Outdir: jsii.String(out)})
	st := awscdk.NewStack(app, jsii.String("Addons"), &awscdk.StackProps{Env: env})
	teardown.New(st, "Sweeper", &teardown.Props{ClusterName: "llm"})
	app.Synth(nil)
	bins, _ := filepath.Glob(filepath.Join(out, "asset.*", "bootstrap"))
	if len(bins) != 1 {
		t.Fatalf("want one asset with a bootstrap, got %v", bins)
	}
	f, err := elf.Open(bins[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap is %v %v, want EM_AARCH64 ET_EXEC", f.Machine, f.Type)
	}
}

// statement finds the policy statement with sid in the sweeper's policy.
func statement(t *testing.T, tpl assertions.Template, sid string) map[string]any {
	t.Helper()
	policies := tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil)
	b, _ := json.Marshal(policies)
	var ps map[string]struct {
		Properties struct {
			PolicyDocument struct{ Statement []map[string]any }
		}
	}
	if err := json.Unmarshal(b, &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		for _, st := range p.Properties.PolicyDocument.Statement {
			if st["Sid"] == sid {
				return st
			}
		}
	}
	t.Fatalf("no statement %s", sid)
	return nil
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestIAMLeastPrivilege(t *testing.T) {
	tpl := literal(t, &teardown.Props{ClusterName: "llm"})
	arn := func(service, resource string) string {
		return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":` + service + `:us-west-2:111111111111:` + resource + `"]]}`
	}
	tests := []struct {
		sid       string
		actions   string
		resources string
		condition string
	}{
		{"List", `["ec2:DescribeInstances","ec2:DescribeLaunchTemplates","ec2:DescribeSecurityGroups","ec2:DescribeNetworkInterfaces","ec2:DescribeSecurityGroupRules","elasticloadbalancing:DescribeLoadBalancers","elasticloadbalancing:DescribeTargetGroups","elasticloadbalancing:DescribeTags","iam:ListInstanceProfiles"]`,
			`"*"`, `null`},
		{"TerminateKarpenterInstances", `"ec2:TerminateInstances"`, arn("ec2", "instance/*"),
			`{"Null":{"aws:ResourceTag/karpenter.sh/nodepool":"false"},"StringEquals":{"aws:ResourceTag/kubernetes.io/cluster/llm":"owned"}}`},
		{"DeleteKarpenterLaunchTemplates", `"ec2:DeleteLaunchTemplate"`, arn("ec2", "launch-template/*"),
			`{"Null":{"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass":"false"},"StringEquals":{"aws:ResourceTag/eks:eks-cluster-name":"llm"}}`},
		{"DeleteLegacyKarpenterLaunchTemplates", `"ec2:DeleteLaunchTemplate"`, arn("ec2", "launch-template/*"),
			`{"StringEquals":{"aws:ResourceTag/karpenter.k8s.aws/cluster":"llm"}}`},
		{"DeleteKarpenterInstanceProfiles", `["iam:RemoveRoleFromInstanceProfile","iam:DeleteInstanceProfile"]`,
			`{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::111111111111:instance-profile/karpenter/us-west-2/llm/*"]]}`, `null`},
		{"DeleteLoadBalancerControllerResources", `["elasticloadbalancing:DeleteLoadBalancer","elasticloadbalancing:DeleteTargetGroup"]`,
			`[` + arn("elasticloadbalancing", "loadbalancer/*") + `,` + arn("elasticloadbalancing", "targetgroup/*/*") + `]`,
			`{"StringEquals":{"aws:ResourceTag/elbv2.k8s.aws/cluster":"llm"}}`},
		{"RevokeClusterSecurityGroupRules", `"ec2:RevokeSecurityGroupIngress"`, arn("ec2", "security-group/*"),
			`{"Null":{"aws:ResourceTag/kubernetes.io/cluster/llm":"false"}}`},
		{"DeleteLoadBalancerControllerSecurityGroups", `"ec2:DeleteSecurityGroup"`, arn("ec2", "security-group/*"),
			`{"StringEquals":{"aws:ResourceTag/elbv2.k8s.aws/cluster":"llm"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.sid, func(t *testing.T) {
			st := statement(t, tpl, tt.sid)
			if got := jsonOf(st["Action"]); got != tt.actions {
				t.Errorf("Action = %s, want %s", got, tt.actions)
			}
			if got := jsonOf(st["Resource"]); got != tt.resources {
				t.Errorf("Resource = %s\nwant %s", got, tt.resources)
			}
			if got := jsonOf(st["Condition"]); got != tt.condition {
				t.Errorf("Condition = %s\nwant %s", got, tt.condition)
			}
			if st["Effect"] != "Allow" {
				t.Errorf("Effect = %v", st["Effect"])
			}
		})
	}
	t.Run("no other statements and no wildcard deletes", func(t *testing.T) {
		b, _ := json.Marshal(tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil))
		for _, bad := range []string{`"ec2:*"`, `"iam:*"`, `"elasticloadbalancing:*"`, `"*:*"`} {
			if strings.Contains(string(b), bad) {
				t.Errorf("policy grants %s", bad)
			}
		}
	})
	cdktest.Check(t, "no CfnJson for a literal name", func() {
		tpl.ResourceCountIs(jsii.String("Custom::AWSCDKCfnJson"), jsii.Number(0))
	})
	cdktest.Check(t, "custom resource has the literal ClusterName", func() {
		tpl.HasResourceProperties(jsii.String(teardown.ResourceType), &map[string]any{"ClusterName": "llm"})
	})
}

func TestLogRetention(t *testing.T) {
	tests := []struct {
		name  string
		props *teardown.Props
		days  float64
	}{
		{"default one month", &teardown.Props{ClusterName: "llm"}, 30},
		{"configured", &teardown.Props{ClusterName: "llm", LogRetention: awslogs.RetentionDays_ONE_WEEK}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := literal(t, tt.props)
			cdktest.Check(t, "two log groups (function, provider) with the retention, deleted with the stack", func() {
				tpl.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(2))
				tpl.AllResources(jsii.String("AWS::Logs::LogGroup"), &map[string]any{
					"Properties":     map[string]any{"RetentionInDays": tt.days},
					"DeletionPolicy": "Delete",
				})
			})
			cdktest.Check(t, "function logs to its log group", func() {
				tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
					"Runtime":       "provided.al2023",
					"LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": assertions.Match_AnyValue()}},
				})
			})
		})
	}
}

func TestNewVpcSweeperPanicsOnMisuse(t *testing.T) {
	tests := []struct {
		name    string
		props   *teardown.VPCProps
		withVpc bool
		want    string
	}{
		{"nil props", nil, false, "teardown: VpcSweeper needs ClusterName and Vpc"},
		{"no VPC", &teardown.VPCProps{ClusterName: "alpha"}, false, "teardown: VpcSweeper needs ClusterName and Vpc"},
		{"no cluster name", &teardown.VPCProps{}, true, "teardown: VpcSweeper needs ClusterName and Vpc"},
		{"malformed cluster name", &teardown.VPCProps{ClusterName: "my cluster"}, true, `teardown: cluster name "my cluster" is not a valid EKS cluster name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := cdktest.NewApp(t, nil)
			st := awscdk.NewStack(app, jsii.String("S"), &awscdk.StackProps{Env: env})
			if tt.withVpc {
				tt.props.Vpc = awsec2.NewVpc(st, jsii.String("Vpc"), nil)
			}
			if got := cdktest.PanicText(func() { teardown.NewVPCSweeper(st, "VpcSweeper", tt.props) }); got != tt.want {
				t.Errorf("panic = %q, want %q", got, tt.want)
			}
		})
	}
}
