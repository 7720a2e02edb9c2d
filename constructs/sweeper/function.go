package sweeper

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdklambdagoalpha/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// FunctionProps configures NewFunction.
type FunctionProps struct {
	// Description is the function's description. Required.
	Description string
	// Timeout is the function's timeout. Required.
	Timeout awscdk.Duration
	// Environment is added to the function's environment. Default: none.
	Environment map[string]*string
	// LogGroup receives the function's logs. Required.
	LogGroup awslogs.ILogGroup
}

// NewFunction builds the Go Lambda in lambda/sweeper, which serves every
// custom resource of this repository (it dispatches on the ResourceType:
// the sweepers of this package and constructs/spotrole), for
// provided.al2023 on arm64, with the local Go toolchain. Each custom resource
// gets its own function, so that each has its own role.
func NewFunction(scope constructs.Construct, id string, props *FunctionProps) awslambda.Function {
	env := map[string]*string{}
	for k, v := range props.Environment {
		env[k] = v
	}
	return awscdklambdagoalpha.NewGoFunction(scope, jsii.String(id), &awscdklambdagoalpha.GoFunctionProps{
		Entry:        jsii.String(filepath.Join(moduleRoot(), entryDir)),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Description:  jsii.String(props.Description),
		Timeout:      props.Timeout,
		MemorySize:   jsii.Number(256),
		LogGroup:     props.LogGroup,
		Environment:  &env,
		Bundling: &awscdklambdagoalpha.BundlingOptions{
			// Reproducible, small binary: no local paths, no VCS stamp (the
			// asset hash is the output's), no RPC mode (provided runtimes).
			GoBuildFlags: &[]*string{
				jsii.String("-trimpath"),
				jsii.String("-buildvcs=false"),
				jsii.String(`-ldflags="-s -w"`),
				jsii.String("-tags=lambda.norpc"),
			},
		},
	})
}

// moduleRoot returns the directory of this module's go.mod: found from the
// working directory (cdk runs `go run .` at the repository root; `go test`
// runs in the package's directory), else from this source file's location.
func moduleRoot() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if isModuleRoot(d) {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	panic(fmt.Sprintf("sweeper: no go.mod declaring module %s above %q: run cdk or go test inside the repository", modulePath, starts))
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == modulePath {
			return true
		}
	}
	return false
}
