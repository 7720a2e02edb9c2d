package nag

import (
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

const reason = "a reason long enough for a reviewer to check it against the resource"

func TestSuppressRejectsUnreviewableSuppressions(t *testing.T) {
	tests := []struct {
		name     string
		reason   string
		findings []Finding
		want     string
	}{
		{"short reason", "because", []Finding{Rule("AwsSolutions-SQS3")},
			`nag: reason "because" is shorter than 40 characters: say why the finding does not apply`},
		{"no rule", reason, nil,
			fmt.Sprintf("nag: no rule given for reason %q", reason)},
		{"other pack", reason, []Finding{Rule("HIPAA.Security-SQSQueueSSLRequestsOnly")},
			`nag: rule "HIPAA.Security-SQSQueueSSLRequestsOnly" is not an AwsSolutions rule id`},
		{"granular rule without findings", reason, []Finding{Rule("AwsSolutions-IAM5")},
			"nag: AwsSolutions-IAM5 is granular: name the findings it applies to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("S"), nil)
			q := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
			if got := cdktest.PanicText(func() { Suppress(q, tt.reason, tt.findings...) }); got != tt.want {
				t.Errorf("panic = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSuppressWritesMetadata(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("S"), nil)
	q := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
	Suppress(q, reason, Rule("AwsSolutions-SQS3"))
	SuppressPath(stack, "Queue", reason, Rule("AwsSolutions-IAM5", "Resource::*", `/^Action::s3:.*$/`))
	defer func() {
		if r := recover(); r != nil {
			t.Error(r)
		}
	}()
	assertions.Template_FromStack(stack, nil).HasResource(jsii.String("AWS::SQS::Queue"), &map[string]any{
		"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": []any{
			map[string]any{"id": "AwsSolutions-SQS3", "reason": reason},
			map[string]any{"id": "AwsSolutions-IAM5", "reason": reason,
				"applies_to": []any{"Resource::*", map[string]any{"regex": "/^Action::s3:.*$/"}}},
		}}},
	})
}

func TestSkipCheckovRejectsUnreviewableSkips(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		checks []string
		want   string
	}{
		{"short reason", "because", []string{"CKV_AWS_1"},
			`nag: checkov reason "because" is shorter than 40 characters: say why the check does not apply`},
		{"no check", reason, nil, fmt.Sprintf("nag: no checkov check given for reason %q", reason)},
		{"malformed id", reason, []string{"AWS_117"}, `nag: "AWS_117" is not a checkov AWS check id (CKV_AWS_n or CKV2_AWS_n)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("S"), nil)
			q := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
			if got := cdktest.PanicText(func() { SkipCheckov(q, tt.reason, tt.checks...) }); got != tt.want {
				t.Errorf("panic = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSkipCheckovWritesMetadataOnEveryResourceBelow(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("S"), nil)
	q := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
	q.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("sqs:SendMessage"), Resources: jsii.Strings("*"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
	}))
	SkipCheckov(q, reason, "CKV_AWS_27")
	SkipCheckov(q, reason, "CKV2_AWS_73")
	tpl := assertions.Template_FromStack(stack, nil)
	want := &map[string]any{"Metadata": map[string]any{"checkov": map[string]any{"skip": []any{
		map[string]any{"id": "CKV_AWS_27", "comment": reason},
		map[string]any{"id": "CKV2_AWS_73", "comment": reason},
	}}}}
	for _, typ := range []string{"AWS::SQS::Queue", "AWS::SQS::QueuePolicy"} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: %v", typ, r)
				}
			}()
			tpl.HasResource(jsii.String(typ), want)
		}()
	}
}
