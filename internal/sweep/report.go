package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// Kind names a type of AWS resource the sweeper handles.
type Kind string

// The kinds, in the order a pass handles them.
const (
	KindInstance        Kind = "ec2:instance"
	KindLaunchTemplate  Kind = "ec2:launch-template"
	KindInstanceProfile Kind = "iam:instance-profile"
	KindLoadBalancer    Kind = "elasticloadbalancing:loadbalancer"
	KindTargetGroup     Kind = "elasticloadbalancing:targetgroup"
	KindSecurityGroup   Kind = "ec2:security-group"
)

// KindNetworkInterface (vpc.go) is handled by VPC passes only.

// Resource identifies one AWS resource. ID is the instance, template or
// security group id, the load balancer or target group ARN, or the instance
// profile name; "*" when a whole kind could not be listed.
type Resource struct {
	Kind Kind   `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (r Resource) String() string {
	if r.Name != "" && r.Name != r.ID {
		return fmt.Sprintf("%s %s (%s)", r.Kind, r.ID, r.Name)
	}
	return fmt.Sprintf("%s %s", r.Kind, r.ID)
}

// Remaining is a resource still present after a pass, and why.
type Remaining struct {
	Resource
	// Reason says what the sweeper saw: still terminating, in use by network
	// interfaces, the API error it got, ...
	Reason string `json:"reason"`
	// Permanent is true when waiting will not help (access denied, deletion
	// protection, invalid request): a human must act.
	Permanent bool `json:"permanent"`
}

// Report is the outcome of a Pass or a Sweep.
type Report struct {
	Cluster string `json:"cluster"`
	Region  string `json:"region"`
	// VpcID is set in the reports of a VPC sweep.
	VpcID     string      `json:"vpcId,omitempty"`
	Deleted   []Resource  `json:"deleted"`
	Remaining []Remaining `json:"remaining"`
	// Passes is the number of passes Sweep ran (0 for a single Pass).
	Passes int `json:"passes,omitempty"`
	// TimedOut is true when Sweep stopped because its context was done.
	TimedOut bool `json:"timedOut,omitempty"`
}

// Done reports whether nothing of the cluster is left.
func (r Report) Done() bool { return len(r.Remaining) == 0 }

// Permanent reports whether some remaining resource needs a human.
func (r Report) Permanent() bool {
	for _, x := range r.Remaining {
		if x.Permanent {
			return true
		}
	}
	return false
}

// Err returns nil when the report is Done, else an error whose text names
// every remaining resource and the reason it remains, those that need a human
// first.
func (r Report) Err() error {
	if r.Done() {
		return nil
	}
	var b strings.Builder
	where := r.Region
	if r.VpcID != "" {
		where += " " + r.VpcID
	}
	fmt.Fprintf(&b, "sweep of cluster %q in %s: %d resource(s) remain", r.Cluster, where, len(r.Remaining))
	permanent := 0
	for _, x := range r.Remaining {
		if x.Permanent {
			permanent++
		}
	}
	switch {
	case permanent > 0:
		fmt.Fprintf(&b, ", %d of them cannot be deleted without help", permanent)
	case r.TimedOut:
		b.WriteString(" at the deadline")
	}
	b.WriteString(":")
	for _, first := range []bool{true, false} {
		for _, x := range r.Remaining {
			if x.Permanent == first {
				fmt.Fprintf(&b, "\n- %s: %s", x.Resource, x.Reason)
			}
		}
	}
	return errors.New(b.String())
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// notFoundCodes are the error codes meaning "already gone".
var notFoundCodes = map[string]bool{
	"InvalidInstanceID.NotFound":                  true,
	"InvalidLaunchTemplateId.NotFound":            true,
	"InvalidLaunchTemplateName.NotFoundException": true,
	"InvalidGroup.NotFound":                       true,
	"InvalidNetworkInterfaceID.NotFound":          true,
	"NoSuchEntity":                                true,
	"LoadBalancerNotFound":                        true,
	"TargetGroupNotFound":                         true,
}

// isNotFound reports whether err says the resource does not exist.
func isNotFound(err error) bool { return notFoundCodes[errorCode(err)] }

// permanentCodes are errors that waiting does not fix.
var permanentCodes = map[string]bool{
	"AccessDenied":                true,
	"AccessDeniedException":       true,
	"UnauthorizedOperation":       true,
	"OperationNotPermitted":       true, // e.g. load balancer deletion protection
	"InvalidParameterValue":       true,
	"ValidationError":             true,
	"AuthFailure":                 true,
	"UnrecognizedClientException": true,
	"InvalidClientTokenId":        true,
}

// isPermanent reports whether err is one that retrying later will not fix.
// A done context is not permanent: the next invocation may finish the work.
func isPermanent(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return permanentCodes[errorCode(err)]
}
