package teardown_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"

	"github.com/hybrid-llm/platform/constructs/teardown"
)

// The sweeper lives in the add-ons stack. Everything whose deletion must come
// before the sweep depends on its Resource (CloudFormation deletes dependents
// first); what must outlive the sweep is a dependency of it.
func ExampleNew() {
	var (
		addons       awscdk.Stack
		cluster      awseksv2.ICluster
		lbController awseksv2.HelmChart // the Load Balancer Controller chart
		karpenter    awseksv2.HelmChart // the Karpenter chart
		nodeRole     awsiam.Role        // Karpenter's node role, held by the instance profiles it creates
	)
	s := teardown.New(addons, "Sweeper", &teardown.Props{ClusterName: *cluster.ClusterName()})
	// On delete: charts first (their controllers stop creating resources)...
	lbController.Node().AddDependency(s.Resource)
	karpenter.Node().AddDependency(s.Resource)
	// ...then the sweep, which removes the node role from Karpenter's
	// instance profiles, then the role.
	s.Resource.Node().AddDependency(nodeRole)
}
