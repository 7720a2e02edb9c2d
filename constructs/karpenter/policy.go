package karpenter

import (
	"embed"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/refpolicy"
)

//go:embed policies/*.json
var policyFiles embed.FS

// references are the embedded official controller policies,
// policies/controller-policy-<version>.json.
var references = refpolicy.Files{
	FS: policyFiles, Dir: "policies", Prefix: "controller-policy-",
	Package: "karpenter", Policy: "controller policy", Subject: "Karpenter version",
}

// Reference is the official Karpenter controller policy of one version, as
// published upstream: several managed policies whose documents still hold
// the CloudFormation !Sub placeholders of the upstream template
// (${AWS::Partition}, ${AWS::Region}, ${AWS::AccountId}, ${ClusterName},
// ${KarpenterNodeRole.Arn}, ${KarpenterInterruptionQueue.Arn}).
type Reference struct {
	// Source is the upstream URL of the template at the version's tag.
	Source string `json:"source"`
	// Version is the Karpenter version, e.g. "1.14.1".
	Version string `json:"version"`
	// Policies are upstream's managed policies, in template order.
	Policies []ReferencePolicy `json:"policies"`
}

// ReferencePolicy is one upstream managed policy.
type ReferencePolicy struct {
	// Name is upstream's ManagedPolicyName without the "-${ClusterName}" suffix.
	Name string `json:"name"`
	// Document is the policy document with upstream placeholders.
	Document map[string]any `json:"document"`
}

// namedPolicyDocument is one rendered upstream managed policy.
type namedPolicyDocument struct {
	// Name is upstream's managed policy name without the cluster suffix,
	// e.g. "KarpenterControllerNodeLifecyclePolicy".
	Name string
	// Document is the rendered policy document.
	Document awsiam.PolicyDocument
}

// ControllerPolicyProps selects and parameterizes the controller policy.
type ControllerPolicyProps struct {
	// Version is the Karpenter version whose official policy is rendered,
	// without a "v" prefix, e.g. "1.14.1". Required.
	Version string
	// ClusterName is the EKS cluster name. It may be a CDK token such as
	// *cluster.ClusterName(). Required.
	ClusterName string
	// NodeRole is the role of the nodes Karpenter launches; the controller may
	// pass only this role (iam:PassRole). Required.
	NodeRole awsiam.IRole
	// Queue is the interruption queue the controller reads. Required.
	Queue awssqs.IQueue
}

// conditionsID is the id of the child construct that holds the CfnJson
// conditions needed when the cluster name is a token.
const conditionsID = "ControllerPolicyConditions"

// placeholderPattern matches CloudFormation !Sub placeholders (but not CDK
// token markers such as ${Token[TOKEN.12]}).
var placeholderPattern = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

// SupportedVersions returns the Karpenter versions (e.g. "1.14.1") for which
// an official controller policy is embedded, sorted.
func SupportedVersions() []string {
	return references.Versions()
}

// LoadReference returns the embedded official controller policy of version,
// or an error naming the version and the supported versions.
func LoadReference(version string) (*Reference, error) {
	var ref Reference
	if err := references.Load(version, &ref); err != nil {
		return nil, err
	}
	for _, p := range ref.Policies {
		if _, ok := p.Document["Statement"].([]any); !ok {
			return nil, fmt.Errorf("karpenter: embedded policy %s for %q has no Statement list", p.Name, version)
		}
	}
	return &ref, nil
}

// ReferenceActions returns the distinct IAM actions of the official
// controller policy of version, sorted.
func ReferenceActions(version string) ([]string, error) {
	ref, err := LoadReference(version)
	if err != nil {
		return nil, err
	}
	var statements []any
	for _, p := range ref.Policies {
		statements = append(statements, p.Document["Statement"].([]any)...)
	}
	return refpolicy.Actions(statements), nil
}

// ControllerPolicyDocument renders the official controller policy of
// props.Version as one policy document holding all upstream statements
// (their Sids are unique). Rendered, it is larger than the 6,144-character
// limit of one managed policy: attach it inline (AWS::IAM::Policy).
//
// When props.ClusterName is an unresolved token, condition keys such as
// "aws:ResourceTag/kubernetes.io/cluster/<name>" cannot be JSON keys at synth,
// so those condition blocks are rendered through awscdk.CfnJson children of a
// construct "ControllerPolicyConditions" created under scope (a custom
// resource resolves them at deploy time, as aws-cdk's ServiceAccount does).
// The controller policy can therefore be rendered once per scope.
func ControllerPolicyDocument(scope constructs.Construct, props *ControllerPolicyProps) (awsiam.PolicyDocument, error) {
	docs, err := render(scope, props)
	if err != nil {
		return nil, err
	}
	var statements []awsiam.PolicyStatement
	for _, d := range docs {
		statements = append(statements, d.statements...)
	}
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}), nil
}

// renderedPolicy carries the statements of one rendered upstream policy.
type renderedPolicy struct {
	namedPolicyDocument
	statements []awsiam.PolicyStatement
}

// render renders every upstream policy of props.Version.
func render(scope constructs.Construct, props *ControllerPolicyProps) ([]renderedPolicy, error) {
	if err := props.validate(scope); err != nil {
		return nil, err
	}
	ref, err := LoadReference(props.Version)
	if err != nil {
		return nil, err
	}
	r := &renderer{
		scope: scope,
		replacer: strings.NewReplacer(
			"${AWS::Partition}", *awscdk.Aws_PARTITION(),
			"${AWS::Region}", *awscdk.Aws_REGION(),
			"${AWS::AccountId}", *awscdk.Aws_ACCOUNT_ID(),
			"${ClusterName}", props.ClusterName,
			"${KarpenterNodeRole.Arn}", *props.NodeRole.RoleArn(),
			"${KarpenterInterruptionQueue.Arn}", *props.Queue.QueueArn(),
		),
	}
	var out []renderedPolicy
	for _, p := range ref.Policies {
		var statements []awsiam.PolicyStatement
		for i, s := range p.Document["Statement"].([]any) {
			st, err := r.statement(s)
			if err != nil {
				return nil, fmt.Errorf("karpenter: %s statement %d of version %s: %w", p.Name, i, props.Version, err)
			}
			statements = append(statements, st)
		}
		out = append(out, renderedPolicy{
			namedPolicyDocument: namedPolicyDocument{
				Name:     p.Name,
				Document: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
			},
			statements: statements,
		})
	}
	return out, nil
}

// validate checks the required props.
func (p *ControllerPolicyProps) validate(scope constructs.Construct) error {
	switch {
	case scope == nil:
		return fmt.Errorf("karpenter: controller policy needs a scope")
	case p == nil:
		return fmt.Errorf("karpenter: ControllerPolicyProps is required")
	case p.Version == "":
		return fmt.Errorf("karpenter: ControllerPolicyProps.Version is required")
	case p.ClusterName == "":
		return fmt.Errorf("karpenter: ControllerPolicyProps.ClusterName is required")
	case p.NodeRole == nil:
		return fmt.Errorf("karpenter: ControllerPolicyProps.NodeRole is required")
	case p.Queue == nil:
		return fmt.Errorf("karpenter: ControllerPolicyProps.Queue is required")
	}
	return nil
}

// renderer substitutes upstream placeholders and builds CDK statements.
type renderer struct {
	scope      constructs.Construct
	replacer   *strings.Replacer
	conditions constructs.Construct
}

// str substitutes the placeholders of s and rejects any it does not know.
func (r *renderer) str(s string) (string, error) {
	out := r.replacer.Replace(s)
	if left := placeholderPattern.FindString(out); left != "" {
		return "", fmt.Errorf("unknown placeholder %s in %q", left, s)
	}
	return out, nil
}

// strs substitutes the placeholders of an IAM string-or-list value.
func (r *renderer) strs(v any) ([]*string, error) {
	var out []*string
	for _, s := range refpolicy.StringList(v) {
		rs, err := r.str(s)
		if err != nil {
			return nil, err
		}
		out = append(out, jsii.String(rs))
	}
	return out, nil
}

// statement renders one upstream statement.
func (r *renderer) statement(v any) (awsiam.PolicyStatement, error) {
	st, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("statement is not an object")
	}
	for k := range st {
		switch k {
		case "Sid", "Effect", "Action", "Resource", "Condition":
		default:
			return nil, fmt.Errorf("unsupported statement element %q", k)
		}
	}
	if st["Effect"] != "Allow" {
		return nil, fmt.Errorf("unsupported effect %v", st["Effect"])
	}
	sid, _ := st["Sid"].(string)
	actions, err := r.strs(st["Action"])
	if err != nil {
		return nil, err
	}
	resources, err := r.strs(st["Resource"])
	if err != nil {
		return nil, err
	}
	if len(actions) == 0 || len(resources) == 0 {
		return nil, fmt.Errorf("statement %q has no actions or no resources", sid)
	}
	props := &awsiam.PolicyStatementProps{
		Effect:    awsiam.Effect_ALLOW,
		Actions:   &actions,
		Resources: &resources,
	}
	if sid != "" {
		props.Sid = jsii.String(sid)
	}
	if cond, ok := st["Condition"].(map[string]any); ok {
		conditions, err := r.conditionsOf(sid, cond)
		if err != nil {
			return nil, err
		}
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props), nil
}

// conditionsOf renders a Condition block. An operator block whose keys hold
// an unresolved token becomes a CfnJson value.
func (r *renderer) conditionsOf(sid string, cond map[string]any) (map[string]any, error) {
	ops := make([]string, 0, len(cond))
	for op := range cond {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	out := make(map[string]any, len(cond))
	for _, op := range ops {
		block, ok := cond[op].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("condition %s is not an object", op)
		}
		rendered := make(map[string]any, len(block))
		tokenKey := false
		for k, v := range block {
			rk, err := r.str(k)
			if err != nil {
				return nil, err
			}
			if *awscdk.Token_IsUnresolved(jsii.String(rk)) {
				tokenKey = true
			}
			rv, err := r.value(v)
			if err != nil {
				return nil, err
			}
			rendered[rk] = rv
		}
		if !tokenKey {
			out[op] = rendered
			continue
		}
		if r.conditions == nil {
			if r.scope.Node().TryFindChild(jsii.String(conditionsID)) != nil {
				return nil, fmt.Errorf("scope %s already holds %s: render the controller policy once per scope",
					*r.scope.Node().Path(), conditionsID)
			}
			r.conditions = constructs.NewConstruct(r.scope, jsii.String(conditionsID))
		}
		id := sid + strings.NewReplacer(":", "", "/", "").Replace(op)
		out[op] = awscdk.NewCfnJson(r.conditions, jsii.String(id), &awscdk.CfnJsonProps{Value: rendered})
	}
	return out, nil
}

// value renders a condition value (a string or a list of strings).
func (r *renderer) value(v any) (any, error) {
	switch t := v.(type) {
	case string:
		return r.str(t)
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("unsupported condition value %v", e)
			}
			rs, err := r.str(s)
			if err != nil {
				return nil, err
			}
			out = append(out, rs)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported condition value %v", v)
}
