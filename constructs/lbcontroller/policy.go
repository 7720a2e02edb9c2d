package lbcontroller

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
)

//go:embed policies/*.json
var policyFiles embed.FS

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
	entries, err := policyFiles.ReadDir("policies")
	if err != nil {
		panic(fmt.Sprintf("lbcontroller: reading embedded policies: %v", err))
	}
	var versions []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "iam-policy-") && strings.HasSuffix(name, ".json") {
			versions = append(versions, strings.TrimSuffix(strings.TrimPrefix(name, "iam-policy-"), ".json"))
		}
	}
	sort.Strings(versions)
	return versions
}

// loadReference reads and parses the embedded policy of version.
func loadReference(version string) (*reference, error) {
	raw, err := policyFiles.ReadFile(path.Join("policies", "iam-policy-"+version+".json"))
	if err != nil {
		return nil, fmt.Errorf("lbcontroller: no IAM policy embedded for controller version %q (supported: %s)",
			version, strings.Join(SupportedVersions(), ", "))
	}
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		return nil, fmt.Errorf("lbcontroller: parsing embedded IAM policy for %q: %w", version, err)
	}
	if ref.Version != version {
		return nil, fmt.Errorf("lbcontroller: embedded IAM policy file for %q says version %q", version, ref.Version)
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
	seen := map[string]bool{}
	for _, s := range ref.Document["Statement"].([]any) {
		st, _ := s.(map[string]any)
		for _, a := range stringList(st["Action"]) {
			seen[a] = true
		}
	}
	actions := make([]string, 0, len(seen))
	for a := range seen {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	return actions, nil
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

// stringList reads an IAM "Action"/"Resource" value (a string or a list).
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
