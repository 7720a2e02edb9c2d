// Package nag records cdk-nag suppressions next to the resources they
// concern. Each suppression names the rule, for the granular rules (IAM4,
// IAM5) the exact findings it covers, and a reason a reviewer can check.
//
// cdk-nag writes suppressions into the template as resource Metadata
// (cdk_nag.rules_to_suppress), so they are reviewed in the golden files too.
package nag

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// MinReasonLength is the shortest reason accepted: enough for a sentence that
// says why the finding does not apply or what would break if it were fixed.
const MinReasonLength = 40

// granular are the AwsSolutions rules that report one finding per policy,
// action or resource: suppressing them needs the findings (appliesTo), so one
// justified wildcard does not hide the next one.
var granular = map[string]bool{
	"AwsSolutions-IAM4": true,
	"AwsSolutions-IAM5": true,
}

// Finding is one rule to suppress and, for granular rules, the findings it
// covers.
type Finding struct {
	// Rule is the cdk-nag rule id, e.g. "AwsSolutions-EKS1".
	Rule string
	// AppliesTo are the granular findings, as cdk-nag prints them between the
	// brackets of "AwsSolutions-IAM5[Resource::*]". A finding written
	// "/pattern/" is an ECMA-262 regular expression. Required for IAM4/IAM5.
	AppliesTo []string
}

// Rule returns the Finding for rule id, limited to the given findings.
func Rule(id string, appliesTo ...string) Finding {
	return Finding{Rule: id, AppliesTo: appliesTo}
}

// Suppress suppresses findings on c and every resource below it, for reason.
// It panics on a short reason, no findings, or a granular rule without its
// findings: a suppression nobody can review is a defect.
func Suppress(c constructs.IConstruct, reason string, findings ...Finding) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, suppressions(reason, findings), jsii.Bool(true))
}

// SuppressPath is Suppress for a construct that has no handle in this code,
// such as what aws-eks-v2 creates inside the cluster construct
// ("Cluster/KubectlProvider"). path is relative to stack; cdk-nag
// fails synthesis if it matches nothing, so a renamed construct is noticed.
// cdk-nag also matches the construct whose path plus "/Resource" equals path,
// and the suppression then covers all its children: to reach one L1 resource,
// give its full path ("Cluster/Resource/Resource/Default").
func SuppressPath(stack awscdk.Stack, path, reason string, findings ...Finding) {
	full := *stack.Node().Path() + "/" + strings.TrimPrefix(path, "/")
	cdknag.NagSuppressions_AddResourceSuppressionsByPath(stack, jsii.String(full), suppressions(reason, findings), jsii.Bool(true))
}

func suppressions(reason string, findings []Finding) *[]*cdknag.NagPackSuppression {
	if len(strings.TrimSpace(reason)) < MinReasonLength {
		panic(fmt.Sprintf("nag: reason %q is shorter than %d characters: say why the finding does not apply", reason, MinReasonLength))
	}
	if len(findings) == 0 {
		panic(fmt.Sprintf("nag: no rule given for reason %q", reason))
	}
	out := make([]*cdknag.NagPackSuppression, 0, len(findings))
	for _, f := range findings {
		if !strings.HasPrefix(f.Rule, "AwsSolutions-") {
			panic(fmt.Sprintf("nag: rule %q is not an AwsSolutions rule id", f.Rule))
		}
		if granular[f.Rule] && len(f.AppliesTo) == 0 {
			panic(fmt.Sprintf("nag: %s is granular: name the findings it applies to", f.Rule))
		}
		s := &cdknag.NagPackSuppression{Id: jsii.String(f.Rule), Reason: jsii.String(reason)}
		if len(f.AppliesTo) > 0 {
			applies := make([]any, 0, len(f.AppliesTo))
			for _, a := range f.AppliesTo {
				if len(a) > 2 && strings.HasPrefix(a, "/") && strings.HasSuffix(a, "/") {
					applies = append(applies, &cdknag.RegexAppliesTo{Regex: jsii.String(a)})
				} else {
					applies = append(applies, a)
				}
			}
			s.AppliesTo = &applies
		}
		out = append(out, s)
	}
	return &out
}

// ManagedPolicyRule is the AwsSolutions-IAM4 finding for attaching the named
// AWS managed policies (e.g. "AmazonEKS_CNI_Policy").
func ManagedPolicyRule(names ...string) Finding {
	appliesTo := make([]string, len(names))
	for i, n := range names {
		appliesTo[i] = "Policy::arn:<AWS::Partition>:iam::aws:policy/" + n
	}
	return Rule("AwsSolutions-IAM4", appliesTo...)
}
