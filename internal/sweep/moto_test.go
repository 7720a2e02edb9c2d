package sweep

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/hybrid-llm/platform/internal/testing/motoserver"
)

// The tests run the sweeper against moto in server mode (a real AWS API
// emulator: requests are signed, serialised and answered like the real
// services), pinned in requirements-test.txt at the repository root. A missing
// moto fails the tests with the install command: skipping would let CI pass
// without testing the sweeper.
//
// What moto 5.2.1 does not model, and how the tests make up for it:
//   - DeleteSecurityGroup never fails with DependencyViolation (not for
//     network interfaces, not for rules of other groups): the proxy injects it.
//   - ListInstanceProfiles ignores PathPrefix: the sweeper re-checks the path,
//     and the tests rely on that.
//   - Instances go to terminated at once (no shutting-down phase), and load
//     balancers vanish at once (no lingering network interfaces): waiting is
//     exercised with an explicit network interface on a security group and
//     with injected faults.
//   - DeleteLoadBalancer ignores deletion protection: OperationNotPermitted is
//     only covered by the error classification test.
//   - Request signatures are not checked; the proxy relies on that to rewrite
//     requests. ELBv2 has no server-side tag filter in AWS either: the
//     sweeper reads tags with DescribeTags, which moto implements.

const testRegion = "us-west-2"

// moto is the server shared by the tests of this package.
var moto *motoserver.Server

func TestMain(m *testing.M) { motoserver.RunMain(m, &moto) }

// Every test (and subtest) works in an AWS account of its own: moto keeps
// one set of resources per account and takes the account from the
// x-moto-account-id header. So the tests start from an empty account without
// resetting the shared server, and run in parallel.

// testAccount returns the moto account of t: 12 digits derived from its name.
func testAccount(t *testing.T) string {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	return fmt.Sprintf("%012d", 100000000000+h.Sum64()%800000000000)
}

// accountTransport sends every request to moto's account for one test.
type accountTransport struct {
	account string
	next    http.RoundTripper
}

func (a accountTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("x-moto-account-id", a.account)
	return a.next.RoundTrip(r)
}

// clients are SDK clients pointed at an endpoint on 127.0.0.1 with fake
// static credentials.
type clients struct {
	EC2 *ec2.Client
	ELB *elb.Client
	IAM *iam.Client
}

func newClients(t *testing.T, endpoint string) clients {
	t.Helper()
	cfg := aws.Config{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
		// Never an environment proxy: all traffic stays on 127.0.0.1.
		HTTPClient: &http.Client{Transport: accountTransport{account: testAccount(t),
			next: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}},
		Retryer: func() aws.Retryer { return NewRetryer(8, 200*time.Millisecond) },
	}
	return clients{EC2: ec2.NewFromConfig(cfg), ELB: elb.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)}
}

// newSweeper returns a sweeper of cluster using c, logging JSON into the test log.
func newSweeper(t *testing.T, c clients, cluster string) *Sweeper {
	t.Helper()
	s, err := New(Config{
		ClusterName:  cluster,
		Region:       testRegion,
		EC2:          c.EC2,
		ELB:          c.ELB,
		IAM:          c.IAM,
		Logger:       slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// newProxy starts a proxy in front of this package's moto server that
// answers with f where it says so (motoserver.Proxy).
func newProxy(t *testing.T, f motoserver.Fault) *motoserver.Proxy {
	return motoserver.NewProxy(t, moto.URL, f)
}

// noFault forwards everything.
var noFault = motoserver.NoFault

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
