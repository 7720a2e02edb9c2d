package spotrole

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/hybrid-llm/platform/internal/testing/motoserver"

	"github.com/hybrid-llm/platform/platform"
)

// moto 5.2.1 models service-linked roles: CreateServiceLinkedRole creates a
// role under /aws-service-role/<service>/ and a second call fails with
// EntityAlreadyExists. It names the spot role AWSServiceRoleForspot (IAM:
// AWSServiceRoleForEC2Spot), so the tests find the role by its path. IAM's own
// answer to a second call (InvalidInput, "has been taken in this account") is
// played by a stub.

var moto *motoserver.Server

func TestMain(m *testing.M) { motoserver.RunMain(m, &moto) }

func iamClient(t *testing.T) *iam.Client {
	t.Helper()
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	return iam.NewFromConfig(aws.Config{
		Region:       "us-west-2",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(moto.URL),
		HTTPClient:   awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.Proxy = nil }),
	})
}

// spotRoles lists the roles linked to spot.amazonaws.com.
func spotRoles(t *testing.T, c *iam.Client) []string {
	t.Helper()
	out, err := c.ListRoles(context.Background(), &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, r := range out.Roles {
		if aws.ToString(r.Path) == platform.SpotRolePath {
			roles = append(roles, aws.ToString(r.RoleName))
		}
	}
	return roles
}

func TestEnsureInAFreshAccountCreatesTheRole(t *testing.T) {
	c := iamClient(t)
	if got := spotRoles(t, c); len(got) != 0 {
		t.Fatalf("a fresh account has spot roles %v", got)
	}
	res, err := Ensure(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || !strings.Contains(res.Arn, ":role"+platform.SpotRolePath) {
		t.Errorf("Ensure = %+v, want Created and an ARN under %s", res, platform.SpotRolePath)
	}
	if got := spotRoles(t, c); len(got) != 1 {
		t.Errorf("spot roles after Ensure: %v, want one", got)
	}
}

func TestEnsureWhenTheRoleExistsSucceeds(t *testing.T) {
	c := iamClient(t)
	// Someone (the console, another stack, step06-add-spot-role.sh) created it.
	if _, err := c.CreateServiceLinkedRole(context.Background(), &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(platform.SpotServiceName)}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // twice: a stack update runs it again
		res, err := Ensure(context.Background(), c)
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if res.Created {
			t.Errorf("call %d: Created, want the existing role kept", i+1)
		}
	}
	if got := spotRoles(t, c); len(got) != 1 {
		t.Errorf("spot roles: %v, want the one that existed", got)
	}
}

// stub answers CreateServiceLinkedRole with err.
type stub struct{ err error }

func (s stub) CreateServiceLinkedRole(context.Context, *iam.CreateServiceLinkedRoleInput, ...func(*iam.Options)) (*iam.CreateServiceLinkedRoleOutput, error) {
	return nil, s.err
}

func TestEnsureErrors(t *testing.T) {
	apiErr := func(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }
	for _, tc := range []struct {
		name string
		err  error
		want string // "" = success
	}{
		{"IAM: the role exists", apiErr("InvalidInput", "Service role name AWSServiceRoleForEC2Spot has been taken in this account, please try a different suffix."), ""},
		{"moto: the role exists", apiErr("EntityAlreadyExists", "Role with name AWSServiceRoleForspot already exists."), ""},
		{"another invalid input", apiErr("InvalidInput", "Invalid service name"), "creating the EC2 Spot service-linked role (spot.amazonaws.com): api error InvalidInput: Invalid service name"},
		{"access denied", apiErr("AccessDenied", "not authorized to perform: iam:CreateServiceLinkedRole"), "api error AccessDenied: not authorized to perform: iam:CreateServiceLinkedRole"},
		{"not an API error", fmt.Errorf("dial tcp: connection refused"), "dial tcp: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Ensure(context.Background(), stub{tc.err})
			if tc.want == "" {
				if err != nil || res.Created {
					t.Errorf("Ensure = %+v, %v; want success without Created", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Ensure error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
