package nag

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// checkovID matches checkov's built-in AWS check ids.
var checkovID = regexp.MustCompile(`^CKV2?_AWS_[0-9]+$`)

// SkipCheckov records checkov skips on every CloudFormation resource at or
// below c that exists when it is called (nested stacks included), as the
// resource Metadata checkov reads ("checkov": {"skip": [{"id", "comment"}]}).
// Use it for findings about one resource; checks that do not apply to the
// whole app are skipped in .checkov.yaml instead. It panics on a short
// reason, no check, or a malformed check id.
func SkipCheckov(c constructs.IConstruct, reason string, checks ...string) {
	if len(strings.TrimSpace(reason)) < MinReasonLength {
		panic(fmt.Sprintf("nag: checkov reason %q is shorter than %d characters: say why the check does not apply", reason, MinReasonLength))
	}
	if len(checks) == 0 {
		panic(fmt.Sprintf("nag: no checkov check given for reason %q", reason))
	}
	var skips []any
	for _, id := range checks {
		if !checkovID.MatchString(id) {
			panic(fmt.Sprintf("nag: %q is not a checkov AWS check id (CKV_AWS_n or CKV2_AWS_n)", id))
		}
		skips = append(skips, map[string]any{"id": id, "comment": reason})
	}
	found := 0
	for _, n := range *c.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !*awscdk.CfnResource_IsCfnResource(n) {
			continue
		}
		r, ok := n.(awscdk.CfnResource)
		if !ok {
			panic(fmt.Sprintf("nag: %s is a CfnResource jsii did not type as one", *n.Node().Path()))
		}
		found++
		meta := map[string]any{}
		if old, ok := r.GetMetadata(jsii.String("checkov")).(map[string]any); ok {
			meta = old
		}
		prev, _ := meta["skip"].([]any)
		meta["skip"] = append(prev, skips...)
		r.AddMetadata(jsii.String("checkov"), meta)
	}
	if found == 0 {
		panic(fmt.Sprintf("nag: no CloudFormation resource at or below %s to skip %v on", *c.Node().Path(), checks))
	}
}
