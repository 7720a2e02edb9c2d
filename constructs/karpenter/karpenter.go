package karpenter

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/helmaddon"
	"github.com/hybrid-llm/platform/constructs/irsarole"
	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/platform"
)

// Where Karpenter is installed from and runs.
const (
	// Repository is the OCI registry of both Karpenter charts.
	Repository = "oci://public.ecr.aws/karpenter"
	// ChartName is the controller chart.
	ChartName = "karpenter"
	// CRDChartName is the chart that installs (and upgrades) the CRDs: Helm
	// never upgrades CRDs from a chart's crds/ folder.
	CRDChartName = "karpenter-crd"
	// Namespace is where the controller runs.
	Namespace = "karpenter"
	// ServiceAccountName is the only service account the controller role trusts.
	ServiceAccountName = "karpenter"
)

// Props configures New.
type Props struct {
	// Cluster is the EKS cluster. Required.
	Cluster awseksv2.ICluster
	// PodIdentity gives the controller its role through EKS Pod Identity
	// instead of IRSA (irsarole.Props.PodIdentity). Default: IRSA.
	PodIdentity bool
	// ClusterName is the cluster's name as a plain string (not a token): it
	// appears in IAM condition keys of the controller policy. Required.
	ClusterName string
	// Version is the Karpenter version of both charts and of the controller
	// IAM policy, e.g. "1.14.1". Required.
	Version string
	// Replicas is the number of controller pods. Default: platform.DefaultReplicas (2).
	Replicas int
	// NodeSelector places the controller, in addition to the chart's default
	// affinity that keeps it off nodes Karpenter launches. Default: none.
	NodeSelector map[string]string
}

// Karpenter is everything Karpenter needs outside its NodePools: the node
// role and its access entry, the interruption queue and rules, the controller
// IRSA role with the official controller policy, and the two charts.
type Karpenter struct {
	// Construct is this construct's node; it is the scope of the children.
	Construct constructs.Construct
	// NodeRole is the role of the nodes Karpenter launches.
	NodeRole *NodeRole
	// Interruption is the interruption queue and its EventBridge rules.
	Interruption *InterruptionQueue
	// Controller is the controller's IAM role, service account and namespace.
	Controller *irsarole.Role
	// CRDs is the karpenter-crd release.
	CRDs *helmaddon.Addon
	// Chart is the karpenter release. NodePools and EC2NodeClasses depend on
	// it, so on delete they go first and the controller drains their nodes.
	Chart *helmaddon.Addon
}

// NodeRoleName is the name of the node role, for EC2NodeClass spec.role.
func (k *Karpenter) NodeRoleName() *string {
	return k.NodeRole.Role.RoleName()
}

// NodeIAMRole is the node role itself, for constructs that must be deleted
// before it (the teardown sweeper removes it from Karpenter's instance
// profiles).
func (k *Karpenter) NodeIAMRole() awsiam.Role {
	return k.NodeRole.Role
}

// NodePoolDependencies is what NodePools and EC2NodeClasses are created
// after and deleted before: the karpenter release (its finalizers drain and
// terminate their nodes) and the node role's access entry (their nodes join
// the cluster through it), in that order.
func (k *Karpenter) NodePoolDependencies() []constructs.IDependable {
	return []constructs.IDependable{k.Chart.Chart, k.NodeRole.AccessEntry}
}

// chartValues returns the controller chart values New computes.
func chartValues(props *Props, clusterEndpoint, queueName string) map[string]any {
	replicas := props.Replicas
	if replicas == 0 {
		replicas = platform.DefaultReplicas
	}
	values := map[string]any{
		"settings": map[string]any{
			"clusterName":       props.ClusterName,
			"clusterEndpoint":   clusterEndpoint,
			"interruptionQueue": queueName,
		},
		"replicas": replicas,
		"controller": map[string]any{
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "500m", "memory": "512Mi"},
				"limits":   map[string]any{"memory": "1Gi"},
			},
		},
		// The chart default, stated here so the template shows it: the
		// controller never runs on a node it launched (it would drain itself).
		"affinity": map[string]any{
			"nodeAffinity": map[string]any{
				"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{
					"nodeSelectorTerms": []any{map[string]any{
						"matchExpressions": []any{map[string]any{"key": platform.LabelNodePool, "operator": "DoesNotExist"}},
					}},
				},
			},
			"podAntiAffinity": map[string]any{
				"requiredDuringSchedulingIgnoredDuringExecution": []any{map[string]any{
					"topologyKey": "kubernetes.io/hostname",
				}},
			},
		},
	}
	if len(props.NodeSelector) > 0 {
		sel := map[string]any{platform.LabelOS: "linux"}
		for k, v := range props.NodeSelector {
			sel[k] = v
		}
		values["nodeSelector"] = sel
	}
	return values
}

// New creates Karpenter in scope's stack. Misuse (missing props, an
// unsupported version) panics: config.Validate rejects bad input first.
func New(scope constructs.Construct, id string, props *Props) *Karpenter {
	if props == nil || props.Cluster == nil || props.ClusterName == "" || props.Version == "" {
		panic(fmt.Sprintf("karpenter: %q needs Cluster, ClusterName and Version", id))
	}
	k := &Karpenter{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	k.NodeRole = NewNodeRole(k.Construct, "NodeRole", &NodeRoleProps{Cluster: props.Cluster})
	k.Interruption = NewInterruptionQueue(k.Construct, "Interruption")

	// Inline, not a managed policy: the rendered policy (~6.4k characters)
	// exceeds the 6,144-character managed policy limit; a role's inline
	// policies may total 10,240.
	policy, err := ControllerPolicyDocument(&ControllerPolicyProps{
		Version:     props.Version,
		ClusterName: props.ClusterName,
		NodeRole:    k.NodeRole.Role,
		Queue:       k.Interruption.Queue,
	})
	if err != nil {
		panic(err.Error())
	}
	k.Controller = irsarole.New(k.Construct, "ServiceAccount", &irsarole.Props{
		Cluster:         props.Cluster,
		Namespace:       Namespace,
		Name:            ServiceAccountName,
		CreateNamespace: true,
		PolicyDocuments: map[string]awsiam.PolicyDocument{"KarpenterController": policy},
		PodIdentity:     props.PodIdentity,
	})
	nag.Suppress(k.Controller.Role, "Karpenter "+props.Version+" controller policy verbatim from upstream (policies/): instances, fleets, launch templates, volumes, network interfaces and instance profiles are created, tagged and deleted only under this cluster's kubernetes.io/cluster and karpenter.sh/nodepool tag conditions; RunInstances/CreateFleet also need the images, snapshots, subnets, security groups, capacity reservations and placement groups they reference (unconditioned, as upstream); Resource * only for region-scoped EC2 Describe*, pricing, zonal-shift and ListInstanceProfiles reads",
		nag.Rule("AwsSolutions-IAM5",
			"Resource::*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:capacity-reservation/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:fleet/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:instance/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:launch-template/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:network-interface/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:placement-group/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:security-group/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:spot-instances-request/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:volume/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*",
			"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*",
			"Resource::arn:<AWS::Partition>:ssm:<AWS::Region>::parameter/aws/service/*"))

	k.CRDs = helmaddon.New(k.Construct, "CrdHelm", &helmaddon.Props{
		Cluster:    props.Cluster,
		Chart:      CRDChartName,
		Repository: Repository,
		Version:    props.Version,
		Release:    CRDChartName,
		Namespace:  Namespace,
		Wait:       true,
		DependsOn:  []constructs.IDependable{k.Controller.Namespace},
	})
	k.Chart = helmaddon.New(k.Construct, "Helm", &helmaddon.Props{
		Cluster:        props.Cluster,
		Chart:          ChartName,
		Repository:     Repository,
		Version:        props.Version,
		Release:        ChartName,
		Namespace:      Namespace,
		Values:         chartValues(props, *props.Cluster.ClusterEndpoint(), *k.Interruption.Queue.QueueName()),
		Wait:           true,
		SkipCrds:       true, // karpenter-crd owns them
		ServiceAccount: k.Controller,
		// The node access entry and the controller's permissions outlive the
		// chart: on delete the controller still drains and terminates nodes.
		DependsOn: []constructs.IDependable{k.CRDs.Chart, k.NodeRole.AccessEntry, k.Controller.Role},
	})
	return k
}
