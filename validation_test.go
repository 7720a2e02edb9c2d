package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// TestBuiltinValidationRunsOnEveryAppSynthesis: aws-cdk-lib's built-in
// CloudFormation validation runs in every whole-app synthesis of these tests
// (synthesize; cdk.json's "@aws-cdk/core:validateAgainstDefaultRules" makes
// its findings errors), as it does in `cdk synth` (README: Speed). A stack
// with a value CloudFormation rejects (a queue's MessageRetentionPeriod
// below the allowed 60 seconds), synthesized the way synthesize does, must
// fail with the validator's finding; the templates of every configuration
// the tests synthesize therefore passed it.
func TestBuiltinValidationRunsOnEveryAppSynthesis(t *testing.T) {
	if validationOff() {
		t.Fatal("CDK_VALIDATION=false: the tests must run with aws-cdk-lib's built-in validation (it validates every configuration they synthesize)")
	}
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	outdir := t.TempDir()
	app := newSynthApp(ctx, outdir)
	stack := awscdk.NewStack(app, jsii.String("Invalid"), &awscdk.StackProps{Env: cdktest.Env()})
	awscdk.NewCfnResource(stack, jsii.String("Queue"), &awscdk.CfnResourceProps{
		Type:       jsii.String("AWS::SQS::Queue"),
		Properties: &map[string]any{"MessageRetentionPeriod": 10},
	})
	msg := cdktest.PanicText(func() { app.Synth(nil) })
	if msg == "" {
		t.Fatal("a template with MessageRetentionPeriod 10 synthesized: the built-in validation did not run")
	}
	if !strings.Contains(msg, "ValidationFailed") {
		t.Fatalf("synthesis failed, but not in validation:\n%s", msg)
	}
	// The exception names only the report; the finding is in it.
	raw, err := os.ReadFile(filepath.Join(outdir, "validation-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		PluginReports []struct {
			PluginName string
			Violations []struct {
				RuleName, Description, Severity string
			}
		}
	}
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatalf("validation-report.json: %v", err)
	}
	for _, p := range report.PluginReports {
		for _, v := range p.Violations {
			if p.PluginName == "CloudFormation Validate" && v.Severity == "error" && strings.Contains(v.Description, "MessageRetentionPeriod") {
				return
			}
		}
	}
	t.Errorf("validation-report.json has no CloudFormation Validate error on MessageRetentionPeriod:\n%s", raw)
}
