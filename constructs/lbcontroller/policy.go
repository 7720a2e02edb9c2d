package lbcontroller

import (
	"embed"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"

	"github.com/hybrid-llm/platform/internal/refpolicy"
)

//go:embed policies/*.json
var policyFiles embed.FS

// references are the embedded official IAM policies,
// policies/iam-policy-<version>.json.
var references = refpolicy.Files{
	FS: policyFiles, Dir: "policies", Prefix: "iam-policy-",
	Package: "lbcontroller", Policy: "IAM policy", Subject: "controller version",
}

// reference is one embedded upstream policy file.
type reference struct {
	// Source is the upstream URL of the policy at the version's tag.
	Source string `json:"source"`
	// Version is the controller version (a git tag such as "v3.5.0").
	Version string `json:"version"`
	// Document is the IAM policy document exactly as published upstream.
	Document map[string]any `json:"document"`
}

// awsPartitionPrefix is the ARN prefix hard-coded in upstream's policy.
const awsPartitionPrefix = "arn:aws:"

// SupportedVersions returns the controller versions (git tags, e.g. "v3.5.0")
// for which an official IAM policy is embedded, sorted.
func SupportedVersions() []string {
	return references.Versions()
}

// loadReference reads and parses the embedded policy of version.
func loadReference(version string) (*reference, error) {
	var ref reference
	if err := references.Load(version, &ref); err != nil {
		return nil, err
	}
	if _, ok := ref.Document["Statement"].([]any); !ok {
		return nil, fmt.Errorf("lbcontroller: embedded IAM policy for %q has no Statement list", version)
	}
	return &ref, nil
}

// ReferenceDocument returns the official IAM policy of the controller version
// as published upstream (partition "aws", no CDK tokens), plus its source URL.
// Tests compare synthesized policies against it.
func ReferenceDocument(version string) (map[string]any, string, error) {
	ref, err := loadReference(version)
	if err != nil {
		return nil, "", err
	}
	return ref.Document, ref.Source, nil
}

// ReferenceActions returns the distinct IAM actions granted by the official
// policy of the controller version, sorted.
func ReferenceActions(version string) ([]string, error) {
	ref, err := loadReference(version)
	if err != nil {
		return nil, err
	}
	return refpolicy.Actions(ref.Document["Statement"].([]any)), nil
}

// PolicyDocument returns the official IAM policy of the controller version
// (e.g. "v3.5.0") as a CDK policy document, with every "arn:aws:" replaced
// by the partition of the stack it is deployed in. It returns an error naming
// the version and the supported versions when no policy is embedded for it.
func PolicyDocument(version string) (awsiam.PolicyDocument, error) {
	ref, err := loadReference(version)
	if err != nil {
		return nil, err
	}
	partitioned := withPartition(ref.Document, "arn:"+*awscdk.Aws_PARTITION()+":")
	doc, ok := partitioned.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("lbcontroller: embedded IAM policy for %q is not an object", version)
	}
	return awsiam.PolicyDocument_FromJson(doc), nil
}

// withPartition returns a deep copy of v in which every string starting with
// "arn:aws:" starts with prefix instead.
func withPartition(v any, prefix string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = withPartition(e, prefix)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = withPartition(e, prefix)
		}
		return out
	case string:
		if strings.HasPrefix(t, awsPartitionPrefix) {
			return prefix + strings.TrimPrefix(t, awsPartitionPrefix)
		}
		return t
	default:
		return v
	}
}
