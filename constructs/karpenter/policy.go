package karpenter

import (
	"embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
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
	// ClusterName is the EKS cluster name, a plain string (not a token):
	// condition keys contain it. Required.
	ClusterName string
	// NodeRole is the role of the nodes Karpenter launches; the controller may
	// pass only this role (iam:PassRole). Required.
	NodeRole awsiam.IRole
	// Queue is the interruption queue the controller reads. Required.
	Queue awssqs.IQueue
}

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
func ControllerPolicyDocument(props *ControllerPolicyProps) (awsiam.PolicyDocument, error) {
	docs, err := render(props)
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
func render(props *ControllerPolicyProps) ([]renderedPolicy, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	ref, err := LoadReference(props.Version)
	if err != nil {
		return nil, err
	}
	r := &renderer{
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
func (p *ControllerPolicyProps) validate() error {
	switch {
	case p == nil:
		return fmt.Errorf("karpenter: ControllerPolicyProps is required")
	case p.Version == "":
		return fmt.Errorf("karpenter: ControllerPolicyProps.Version is required")
	case p.ClusterName == "":
		return fmt.Errorf("karpenter: ControllerPolicyProps.ClusterName is required")
	case *awscdk.Token_IsUnresolved(jsii.String(p.ClusterName)):
		return fmt.Errorf("karpenter: ControllerPolicyProps.ClusterName must be a plain string, not a token: IAM condition keys such as aws:ResourceTag/kubernetes.io/cluster/<name> contain it")
	case p.NodeRole == nil:
		return fmt.Errorf("karpenter: ControllerPolicyProps.NodeRole is required")
	case p.Queue == nil:
		return fmt.Errorf("karpenter: ControllerPolicyProps.Queue is required")
	}
	return nil
}

// renderer substitutes upstream placeholders and builds CDK statements.
type renderer struct {
	replacer *strings.Replacer
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
		conditions, err := r.conditionsOf(cond)
		if err != nil {
			return nil, err
		}
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props), nil
}

// conditionsOf renders a Condition block.
func (r *renderer) conditionsOf(cond map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(cond))
	for _, op := range slices.Sorted(maps.Keys(cond)) {
		block, ok := cond[op].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("condition %s is not an object", op)
		}
		rendered := make(map[string]any, len(block))
		for k, v := range block {
			rk, err := r.str(k)
			if err != nil {
				return nil, err
			}
			rv, err := r.value(v)
			if err != nil {
				return nil, err
			}
			rendered[rk] = rv
		}
		out[op] = rendered
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
