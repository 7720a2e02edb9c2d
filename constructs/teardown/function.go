package teardown

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/gobundle"
)

// DefaultLogRetention is how long the custom resources' functions and
// providers keep their logs when their props set no LogRetention (the log
// groups are deleted with the stack either way).
const DefaultLogRetention = awslogs.RetentionDays_ONE_MONTH

// LogRetention returns r, or DefaultLogRetention when r is unset: the
// LogRetention default of this package's props and of constructs/spotrole's.
func LogRetention(r awslogs.RetentionDays) awslogs.RetentionDays {
	if r == "" {
		return DefaultLogRetention
	}
	return r
}

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

// NewFunction builds the Go Lambda in lambda/customresources, which serves every
// custom resource of this repository (it dispatches on the ResourceType:
// the sweepers of this package and constructs/spotrole), for
// provided.al2023 on arm64 (internal/gobundle: go build with the local Go
// toolchain at synth, no Docker). Each custom resource
// gets its own function, so that each has its own role.
func NewFunction(scope constructs.Construct, id string, props *FunctionProps) awslambda.Function {
	env := map[string]*string{}
	for k, v := range props.Environment {
		env[k] = v
	}
	return awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		Code:         gobundle.Code(EntryDir),
		Handler:      jsii.String(gobundle.Handler),
		Runtime:      gobundle.Runtime(),
		Architecture: gobundle.Architecture(),
		Description:  jsii.String(props.Description),
		Timeout:      props.Timeout,
		MemorySize:   jsii.Number(256),
		LogGroup:     props.LogGroup,
		Environment:  &env,
	})
}
