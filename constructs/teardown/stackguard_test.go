package teardown_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/teardown"
	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// TestDescribeOwnStackOnly: the function may call DescribeStacks (to sweep
// only while its stack is being deleted) on exactly the stack that holds the
// sweeper, by its full ARN (Ref AWS::StackId), and on nothing else.
func TestDescribeOwnStackOnly(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	st := awscdk.NewStack(app, jsii.String("Addons"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-west-2")}})
	teardown.New(st, "Sweeper", &teardown.Props{ClusterName: "llm"})
	tpl := assertions.Template_FromStack(st, nil)

	b, _ := json.Marshal(tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil))
	var policies map[string]struct {
		Properties struct {
			PolicyDocument struct{ Statement []map[string]any }
		}
	}
	if err := json.Unmarshal(b, &policies); err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range policies {
		for _, s := range p.Properties.PolicyDocument.Statement {
			action, _ := json.Marshal(s["Action"])
			if string(action) != `"cloudformation:DescribeStacks"` && s["Sid"] != "DescribeOwnStack" {
				continue
			}
			got, _ := json.Marshal(s)
			found = append(found, string(got))
		}
	}
	want := `{"Action":"cloudformation:DescribeStacks","Effect":"Allow","Resource":{"Ref":"AWS::StackId"},"Sid":"DescribeOwnStack"}`
	if len(found) != 1 || found[0] != want {
		t.Errorf("DescribeStacks statements = %v\nwant exactly [%s]", found, want)
	}
}
