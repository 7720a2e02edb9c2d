package kubectllayer_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/constructs/kubectllayer"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

func TestLocateReadsTheInstalledPackage(t *testing.T) {
	f, err := kubectllayer.Locate()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Kubectl, config.KubectlLayerVersion+".") {
		t.Errorf("kubectl %q is not %s.x", f.Kubectl, config.KubectlLayerVersion)
	}
	// The package's name carries the kubectl minor: ...-kubectl-v36 for 1.36.
	if want := "-v" + strings.TrimPrefix(config.KubectlLayerVersion, "1."); !strings.HasSuffix(kubectllayer.Package, want) {
		t.Errorf("package %s does not end in %s", kubectllayer.Package, want)
	}
	if f.Helm == "" || f.Version == "" {
		t.Errorf("Helm %q, package version %q: want both", f.Helm, f.Version)
	}
}

func TestCheckRejectsAnotherKubectlMinor(t *testing.T) {
	tests := []struct {
		name    string
		files   kubectllayer.Files
		wantErr string
	}{
		{"same minor", kubectllayer.Files{Kubectl: "1.36.3", Helm: "4.2.3"}, ""},
		{"older layer", kubectllayer.Files{Kubectl: "1.35.1", Helm: "4.2.3"}, `ships kubectl "1.35.1", but config.KubectlLayerVersion is 1.36`},
		{"prefix is not a minor", kubectllayer.Files{Kubectl: "1.360.0", Helm: "4.2.3"}, `ships kubectl "1.360.0"`},
		{"no helm", kubectllayer.Files{Kubectl: "1.36.3"}, "no HELM_VERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.files.Check("1.36")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Check = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestAssetHashIsThePackagesOwn: the layer's custom asset hash is the SHA-256
// of the package's layer/Dockerfile, as the package's KubectlV36Layer class
// sets it, so the same asset is published however it is built. CDK names
// the asset by the SHA-256 of a custom hash's text.
func TestAssetHashIsThePackagesOwn(t *testing.T) {
	f, err := kubectllayer.Locate()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(f.Dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	custom := hex.EncodeToString(sum[:])
	sum = sha256.Sum256([]byte(custom))
	want := hex.EncodeToString(sum[:])

	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("S"), &awscdk.StackProps{Env: cdktest.Env()})
	kubectllayer.New(stack, "Layer")
	tpl := assertions.Template_FromStack(stack, nil)
	layers := cdktest.Resources(t, tpl, "AWS::Lambda::LayerVersion")
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	for _, l := range layers {
		p := l["Properties"].(map[string]any)
		key, _ := p["Content"].(map[string]any)["S3Key"].(string)
		if key != want+".zip" {
			t.Errorf("S3Key = %q, want %s.zip", key, want)
		}
		if d, _ := p["Description"].(string); !strings.Contains(d, "/opt/kubectl/kubectl "+f.Kubectl) || !strings.Contains(d, kubectllayer.Package+"@"+f.Version) {
			t.Errorf("Description = %q", d)
		}
	}
}
