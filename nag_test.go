package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// nagFindings returns the unsuppressed AwsSolutions errors and warnings of a
// synthesized stack (nested stacks included: their annotations are recorded
// on the parent's artifact) as "path: message" lines.
func nagFindings(st awscdk.Stack) []string {
	a := assertions.Annotations_FromStack(st)
	rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	var out []string
	for _, msgs := range []*[]*cxapi.SynthesisMessage{a.FindError(jsii.String("*"), rule), a.FindWarning(jsii.String("*"), rule)} {
		for _, m := range *msgs {
			text := fmt.Sprint(m.Entry.Data)
			if i := strings.Index(text, ": "); i > 0 {
				text = text[:i] // the rule and finding; the rest is the rule's prose
			}
			out = append(out, *m.Id+": "+text)
		}
	}
	return out
}

// annotationsInReportFlag puts annotations into the synth-time validation
// report, which fails synthesis on an error annotation (cdk.json sets it).
const annotationsInReportFlag = "@aws-cdk/core:annotationsInValidationReport"

func TestNoUnsuppressedNagFindings(t *testing.T) {
	for _, mode := range identityModes {
		p := mode.app(t).platform
		for _, st := range []awscdk.Stack{p.Network.Stack, p.Cluster.Stack, p.NodeGroups.Stack, p.Addons.Stack} {
			t.Run(mode.identity+"/"+*st.StackName(), func(t *testing.T) {
				if found := nagFindings(st); len(found) > 0 {
					t.Errorf("%d unsuppressed cdk-nag findings: fix them or suppress each next to its resource with nag.Suppress and a reason (README: Guardrails):\n%s",
						len(found), strings.Join(found, "\n"))
				}
			})
		}
	}
}

// TestNagChecksRunAndFollowConfig proves the test above can fail: a resource
// with known AwsSolutions findings, added to the real app, is reported when
// cdkNag.enabled is true and not when it is false.
func TestNagChecksRunAndFollowConfig(t *testing.T) {
	tests := []struct {
		name    string
		enabled bool
		want    []string
	}{
		{"enabled reports an unencrypted queue without DLQ", true, []string{"AwsSolutions-SQS3", "AwsSolutions-SQS4"}},
		{"disabled reports nothing", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, err := cdkJSONContext()
			if err != nil {
				t.Fatal(err)
			}
			ctx["hybridLlm.cdkNag.enabled"] = fmt.Sprint(tt.enabled)
			// With cdk.json's annotationsInValidationReport, an error
			// annotation (an unsuppressed finding) fails synthesis itself,
			// and with it Annotations_FromStack: read the findings without.
			ctx[annotationsInReportFlag] = false
			cfg, err := config.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CDKNag.Enabled != tt.enabled {
				t.Fatalf("cdkNag.enabled = %v, want %v", cfg.CDKNag.Enabled, tt.enabled)
			}
			app := cdktest.NewApp(t, &awscdk.AppProps{Context: &ctx})
			p := newApp(app, cfg)
			awssqs.NewQueue(p.Addons.Stack, jsii.String("Unjustified"), nil)
			found := strings.Join(nagFindings(p.Addons.Stack), "\n")
			for _, rule := range tt.want {
				if !strings.Contains(found, "/Unjustified/Resource: "+rule) {
					t.Errorf("findings do not report %s on the queue:\n%s", rule, found)
				}
			}
			if tt.want == nil && found != "" {
				t.Errorf("cdk-nag disabled but reported:\n%s", found)
			}
		})
	}
}

// suppression is one entry of a resource's Metadata cdk_nag.rules_to_suppress.
type suppression struct {
	ID        string `json:"id"`
	Reason    string `json:"reason"`
	AppliesTo []any  `json:"applies_to"`
}

// TestEverySuppressionIsJustified reads every template of the cloud assembly
// (nested stacks included) and checks each suppression names an AwsSolutions
// rule, its findings for the granular rules, and a reason.
func TestEverySuppressionIsJustified(t *testing.T) {
	dir := *defaults.app.Synth(nil).Directory()
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil || len(files) < len(stackIDs) {
		t.Fatalf("templates in %s: %v (%v)", dir, files, err)
	}
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tpl struct {
			Resources map[string]struct {
				Metadata struct {
					CDKNag struct {
						RulesToSuppress []suppression `json:"rules_to_suppress"`
					} `json:"cdk_nag"`
				}
			}
		}
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, r := range tpl.Resources {
			for _, s := range r.Metadata.CDKNag.RulesToSuppress {
				total++
				where := filepath.Base(f) + " " + id + " " + s.ID
				if !strings.HasPrefix(s.ID, "AwsSolutions-") {
					t.Errorf("%s: suppresses a rule outside AwsSolutions", where)
				}
				if len(strings.TrimSpace(s.Reason)) < nag.MinReasonLength {
					t.Errorf("%s: reason %q is shorter than %d characters", where, s.Reason, nag.MinReasonLength)
				}
				if (s.ID == "AwsSolutions-IAM4" || s.ID == "AwsSolutions-IAM5") && len(s.AppliesTo) == 0 {
					t.Errorf("%s: granular rule suppressed without appliesTo (it would hide every future finding)", where)
				}
			}
		}
	}
	if total == 0 {
		t.Errorf("no suppression found in %d templates: is the test reading the right assembly?", len(files))
	}
	t.Logf("%d suppressions in %d templates", total, len(files))
}
