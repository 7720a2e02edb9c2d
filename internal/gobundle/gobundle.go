// Package gobundle builds a Go Lambda function's code at synth with the local
// Go toolchain: a CDK local bundler (awscdk.ILocalBundling) that builds the
// binary for linux/arm64 into the asset's output directory, so no Docker is
// needed.
//
// The design card names the aws-lambda-go alpha construct (GoFunction) for
// this; nothing newer than awscdklambdagoalpha 2.220 is served, which does
// not build with aws-cdk-lib 2.276, so the app uses a plain awslambda.Function
// with the code from Code.
//
// The binary is reproducible (-trimpath, no VCS stamp, stripped), and the
// asset hash is the hash of the output: unchanged code gives an unchanged
// template.
package gobundle

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/modroot"
	"github.com/hybrid-llm/platform/internal/timing"
)

// Target of the build: the OS and architecture of Lambda's arm64
// provided.al2023 runtime (Runtime and Architecture return them as CDK values).
const (
	GOOS   = "linux"
	GOARCH = "arm64"
)

// Handler is the executable name the provided.al2023 runtime starts.
const Handler = "bootstrap"

// Runtime is the Lambda runtime the binaries are built for (OS-only, the Go
// program is its own runtime).
func Runtime() awslambda.Runtime { return awslambda.Runtime_PROVIDED_AL2023() }

// Architecture is the Lambda architecture the binaries are built for (GOARCH).
func Architecture() awslambda.Architecture { return awslambda.Architecture_ARM_64() }

// BuildArgs are the arguments of the go command that builds the main package
// pkg (a path relative to the module root) and writes the binary to out: a
// small reproducible binary (no local paths, no VCS stamp, no symbol table),
// without the RPC mode that only the retired go1.x runtime used.
//
// The command is `go run -exec cp <flags> ./<pkg> <out>`: go run keeps the
// linked executable in the Go build cache (Go >= 1.24) and, instead of
// running it, runs `cp <cached executable> <out>`. A synth with unchanged
// code therefore costs go's staleness check and a copy, not a link: `go build
// -o` into the asset's fresh directory relinked the 10 MB binary at every
// synth (about 0.7 s of each `cdk synth` and of every test synthesis that
// includes a sweeper). The Go build cache is safe for concurrent use, so
// parallel test processes share it.
func BuildArgs(pkg, out string) []string {
	return []string{
		"run",
		"-exec", "cp",
		"-trimpath",
		"-buildvcs=false",
		"-ldflags=-s -w",
		"-tags=lambda.norpc",
		"./" + filepath.ToSlash(pkg),
		out,
	}
}

// Env is the environment of the build: the caller's, with cgo off (a static
// binary) and the target OS and architecture.
func Env() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS="+GOOS, "GOARCH="+GOARCH)
}

// bundler is the local bundler of one main package.
type bundler struct {
	root, pkg string
}

// build runs BuildArgs for pkg in the module root, writing the binary to out.
func build(root, pkg, out string) error {
	cmd := exec.Command("go", BuildArgs(pkg, out)...)
	cmd.Dir = root
	cmd.Env = Env()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gobundle: go build ./%s for %s/%s: %v\n%s", pkg, GOOS, GOARCH, err, msg)
	}
	return nil
}

// TryBundle builds the binary into outputDir (BuildArgs), or takes it from
// the build Prefetch started. A failed build panics with go's output:
// falling back to Docker bundling would only hide the compiler's message.
func (b *bundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	defer timing.Since("bundling ./"+b.pkg, time.Now())
	out := filepath.Join(*outputDir, Handler)
	if p, ok := prefetches.Load(b.pkg); ok && p.(*prefetch).take(out) {
		return jsii.Bool(true)
	}
	if err := build(b.root, b.pkg, out); err != nil {
		panic(err.Error())
	}
	return jsii.Bool(true)
}

// prefetches holds the builds Prefetch started, by package.
var prefetches sync.Map

// prefetch is one build Prefetch started.
type prefetch struct {
	done chan struct{}
	dir  string // holds the binary, Handler
	err  error
}

// Prefetch starts building the main package pkg in the background, so the
// go command's staleness check (about 0.3 s, with nothing to link) runs
// while the app starts the jsii kernel instead of after it; the bundler then
// copies the result. The app calls it first thing; Cleanup removes what it
// leaves. A failed prefetch is forgotten: the bundler builds again and panics
// with go's message.
func Prefetch(pkg string) {
	p := &prefetch{done: make(chan struct{})}
	if _, running := prefetches.LoadOrStore(pkg, p); running {
		return
	}
	go func() {
		defer close(p.done)
		if p.dir, p.err = os.MkdirTemp("", "gobundle-"); p.err == nil {
			p.err = build(modroot.Dir(), pkg, filepath.Join(p.dir, Handler))
		}
	}()
}

// take waits for the prefetched build and copies its binary to out; false
// if the build failed.
func (p *prefetch) take(out string) bool {
	<-p.done
	if p.err != nil {
		return false
	}
	raw, err := os.ReadFile(filepath.Join(p.dir, Handler))
	if err != nil {
		return false
	}
	return os.WriteFile(out, raw, 0o755) == nil
}

// Cleanup waits for the builds Prefetch started and removes their output.
func Cleanup() {
	prefetches.Range(func(_, v any) bool {
		p := v.(*prefetch)
		<-p.done
		if p.dir != "" {
			os.RemoveAll(p.dir)
		}
		return true
	})
}

// Code returns the Lambda code of the main package pkg (relative to the
// module root, e.g. "lambda/customresources"), built locally at synth. The asset's
// source path is the package directory (what CDK fingerprints to cache the
// build within one synth); its hash is the output's.
func Code(pkg string) awslambda.Code {
	root := modroot.Dir()
	return awslambda.Code_FromAsset(jsii.String(filepath.Join(root, pkg)), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			Local: &bundler{root: root, pkg: pkg},
			// Required by the type, never pulled: the local bundler
			// either builds or panics.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
		},
	})
}
