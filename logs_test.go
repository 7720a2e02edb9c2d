package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// nestedHash is the hash CDK appends to a nested stack's template name.
var nestedHash = regexp.MustCompile(`[0-9A-F]{8}\.nested$`)

// lambdaLogGroups classifies the log group of every Lambda function in every
// template of the cloud assembly (nested stacks included) and counts them
// per "<template>: <what happens to the log group on destroy>".
func lambdaLogGroups(t *testing.T, dir string) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s: %v", dir, err)
	}
	out := map[string]int{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tpl struct {
			Resources map[string]map[string]any
		}
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := nestedHash.ReplaceAllString(strings.TrimSuffix(filepath.Base(f), ".template.json"), "(nested)")
		// The log groups a template creates: by the function whose default
		// log group they are, and by their own reference.
		byFunction, byLogGroup := map[string]string{}, map[string]string{}
		for id, r := range tpl.Resources {
			if r["Type"] != "AWS::Logs::LogGroup" {
				continue
			}
			p, _ := r["Properties"].(map[string]any)
			what := fmt.Sprintf("in the template, %v days, DeletionPolicy %v", p["RetentionInDays"], r["DeletionPolicy"])
			// Named /aws/lambda/<function>: the function's default log group.
			if name, _ := cdktest.Resolve(p["LogGroupName"]).(string); strings.HasPrefix(name, "/aws/lambda/${") {
				byFunction[strings.TrimPrefix(name, "/aws/lambda/")] = what
			}
			byLogGroup[ref(id, "")] = what
		}
		for id, r := range tpl.Resources {
			if r["Type"] != "AWS::Lambda::Function" {
				continue
			}
			p, _ := r["Properties"].(map[string]any)
			what, ok := byFunction[ref(id, "")]
			if lc, _ := p["LoggingConfig"].(map[string]any); lc["LogGroup"] != nil {
				what, ok = byLogGroup[fmt.Sprint(cdktest.Resolve(lc["LogGroup"]))]
			}
			if !ok {
				what = "created by Lambda at first invocation, never expires, outside CloudFormation"
			}
			out[name+": "+what]++
		}
	}
	return out
}

// TestWhatLogGroupsRemainAfterDestroy pins what README "What remains after
// destroy" says about the Lambda functions' log groups: which the stacks
// delete, which aws-cdk-lib creates with a retention and DeletionPolicy
// Retain, and which Lambda creates itself.
func TestWhatLogGroupsRemainAfterDestroy(t *testing.T) {
	got := lambdaLogGroups(t, *defaults.app.Synth(nil).Directory())
	want := map[string]int{
		// Custom::VpcRestrictDefaultSG's provider.
		"HybridLlmNetwork: created by Lambda at first invocation, never expires, outside CloudFormation": 1,
		// The kubectl handler and its provider framework's onEvent: aws-eks-v2
		// would keep theirs for 731 days (Retain); the cluster stack sets
		// controlPlaneLogRetentionDays and Delete.
		"HybridLlmCluster: in the template, 90 days, DeletionPolicy Delete": 2,
		// Custom::AWSCDKCfnJson's provider (the IRSA trust conditions).
		"HybridLlmAddons: created by Lambda at first invocation, never expires, outside CloudFormation": 1,
		// The sweeper and its provider framework (onEvent, isComplete,
		// onTimeout); the Spot service-linked role's function and its
		// provider's onEvent.
		"HybridLlmAddons: in the template, 30 days, DeletionPolicy Delete": 6,
		// The VPC sweeper and its provider framework (onEvent, isComplete, onTimeout).
		"HybridLlmNetwork: in the template, 30 days, DeletionPolicy Delete": 4,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lambda log groups per template:\n got  %v\n want %v\n(update README \"What remains after destroy\" with this test)", got, want)
	}
}

// CloudFormation and Lambda limits the large CRD manifests must stay under.
const (
	// maxTemplateBytes is CloudFormation's template body limit for a
	// template in S3 (the CDK CLI uploads templates over 50 KB there).
	maxTemplateBytes = 1_000_000
	// maxCustomResourceRequestBytes bounds a custom resource's properties:
	// CloudFormation sends them to the provider Lambda in one asynchronous
	// event, and 256 KB is Lambda's classic limit for such a payload.
	maxCustomResourceRequestBytes = 262_144
)

// TestTemplatesFitCloudFormationAndLambdaLimits: every template of the
// assembly, and every custom resource's properties, stays under the limits
// above (the Load Balancer Controller CRDs made HybridLlmAddons ~250 KB).
func TestTemplatesFitCloudFormationAndLambdaLimits(t *testing.T) {
	dir := *defaults.app.Synth(nil).Directory()
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s: %v", dir, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) >= maxTemplateBytes {
			t.Errorf("%s is %d bytes, CloudFormation takes at most %d", filepath.Base(f), len(raw), maxTemplateBytes)
		}
		var tpl struct {
			Resources map[string]struct {
				Type       string
				Properties json.RawMessage
			}
		}
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, r := range tpl.Resources {
			if strings.HasPrefix(r.Type, "Custom::") && len(r.Properties) >= maxCustomResourceRequestBytes {
				t.Errorf("%s %s (%s): properties are %d bytes, over %d", filepath.Base(f), id, r.Type, len(r.Properties), maxCustomResourceRequestBytes)
			}
		}
	}
}
