package lbcontroller

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/helmaddon"
	"github.com/hybrid-llm/platform/constructs/irsarole"
	"github.com/hybrid-llm/platform/internal/nag"
	"github.com/hybrid-llm/platform/platform"
)

// Where the controller is installed from and runs.
const (
	// ChartName is the Helm chart's name.
	ChartName = "aws-load-balancer-controller"
	// Repository is the eks-charts Helm repository.
	Repository = "https://aws.github.io/eks-charts"
	// Namespace is where the controller runs.
	Namespace = "kube-system"
	// ServiceAccountName is the only service account its IAM role trusts.
	ServiceAccountName = "aws-load-balancer-controller"
	// IngressClass is the IngressClass the chart creates; Ingresses select
	// the controller with spec.ingressClassName: alb.
	IngressClass = "alb"
)

// appVersionByChart maps a chart version to the controller version it ships,
// whose official IAM policy the role gets: the pinned
// platform.LoadBalancerController, whose policy file, CRDs and values keys
// this repository carries.
var appVersionByChart = map[string]string{
	platform.LoadBalancerController.Chart: platform.LoadBalancerController.App,
}

// SupportedChartVersions returns the chart versions the construct accepts.
func SupportedChartVersions() []string {
	return slices.Sorted(maps.Keys(appVersionByChart))
}

// AppVersion returns the controller version a chart version ships, or an
// error naming the supported chart versions.
func AppVersion(chartVersion string) (string, error) {
	v, ok := appVersionByChart[chartVersion]
	if !ok {
		return "", fmt.Errorf("lbcontroller: chart version %q is not supported; supported: %s", chartVersion, strings.Join(SupportedChartVersions(), ", "))
	}
	return v, nil
}

// Check reports what upstream data chart version chartVersion lacks: its
// controller version in appVersionByChart, that version's IAM policy
// (policies/) and its CRDs (crds/). New panics with the same message.
func Check(chartVersion string) error {
	appVersion, err := AppVersion(chartVersion)
	if err != nil {
		return err
	}
	_, perr := loadReference(appVersion)
	_, cerr := CRDs(appVersion)
	return errors.Join(perr, cerr)
}

// Props configures New.
type Props struct {
	// Cluster is the EKS cluster. Required.
	Cluster awseksv2.ICluster
	// PodIdentity gives the controller its role through EKS Pod Identity
	// instead of IRSA (irsarole.Props.PodIdentity). Default: IRSA.
	PodIdentity bool
	// ClusterName is the cluster's name, set as the chart's clusterName.
	// Required. A plain string keeps the value literal in the template
	// (Cluster.ClusterName() from another stack would be an import).
	ClusterName string
	// Vpc is the cluster's VPC; its id is set as the chart's vpcId, and the
	// stack's region as its region, so the controller does not depend on IMDS.
	// Required.
	Vpc awsec2.IVpc
	// ChartVersion is the pinned chart version, e.g. "3.5.0". Required.
	ChartVersion string
	// Replicas is the number of controller pods. Default: platform.DefaultReplicas (2).
	Replicas int
	// NodeSelector places the controller. Default: no selector.
	NodeSelector map[string]string
	// DependsOn are constructs the release waits for. Default: none.
	DependsOn []constructs.IDependable
}

// Controller is the AWS Load Balancer Controller: its IRSA role with the
// official IAM policy of the controller version, its CRDs, and its Helm release.
type Controller struct {
	// Construct is this construct's node; it is the scope of the children.
	Construct constructs.Construct
	// ServiceAccount is the controller's service account
	// (kube-system/aws-load-balancer-controller) and its IAM role
	// (ServiceAccount.Role), the construct id "ServiceAccount".
	ServiceAccount *irsarole.Role
	// CRDs are the CustomResourceDefinitions of the controller version, one
	// manifest each, applied before the release (which skips its crds/).
	CRDs []awseksv2.KubernetesManifest
	// Addon is the Helm release.
	Addon *helmaddon.Addon
}

// chartValues returns the chart values of the release in region and VPC
// vpcID (both may be tokens).
func chartValues(props *Props, region, vpcID string) map[string]any {
	replicas := props.Replicas
	if replicas == 0 {
		replicas = platform.DefaultReplicas
	}
	values := map[string]any{
		"clusterName":  props.ClusterName,
		"region":       region,
		"vpcId":        vpcID,
		"replicaCount": replicas,
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
			"limits":   map[string]any{"memory": "256Mi"},
		},
		// Rendered by the chart only when non-empty and replicaCount > 1.
		"podDisruptionBudget":        map[string]any{"maxUnavailable": 1},
		"ingressClass":               IngressClass,
		"createIngressClassResource": true,
		// Reuse the webhook certificate secret on upgrade (the chart looks it
		// up): by default every upgrade generates a new CA and certificate,
		// and until the pods reload the secret the API server rejects Service,
		// Ingress and TargetGroupBinding writes the webhooks intercept. The
		// chart's certificate is valid for 3650 days.
		"keepTLSSecret": true,
	}
	if len(props.NodeSelector) > 0 {
		sel := map[string]any{}
		for k, v := range props.NodeSelector {
			sel[k] = v
		}
		values["nodeSelector"] = sel
	}
	return values
}

// New installs the controller in scope's stack. Misuse (missing props, an
// unsupported chart version) panics: config.Validate rejects bad input first.
func New(scope constructs.Construct, id string, props *Props) *Controller {
	if props == nil || props.Cluster == nil || props.ClusterName == "" || props.Vpc == nil {
		panic(fmt.Sprintf("lbcontroller: %q needs Cluster, ClusterName and Vpc", id))
	}
	if err := Check(props.ChartVersion); err != nil {
		panic(err.Error())
	}
	appVersion, _ := AppVersion(props.ChartVersion)
	policy, err := PolicyDocument(appVersion)
	if err != nil {
		panic(err.Error())
	}

	c := &Controller{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	c.ServiceAccount = irsarole.New(c.Construct, "ServiceAccount", &irsarole.Props{
		Cluster:         props.Cluster,
		Namespace:       Namespace,
		Name:            ServiceAccountName,
		PolicyDocuments: map[string]awsiam.PolicyDocument{"AWSLoadBalancerController": policy},
		PodIdentity:     props.PodIdentity,
	})
	// The policy is upstream's for this controller version, verbatim
	// (policies/, checked by the tests): its wildcards are upstream's.
	lbcReason := "AWS Load Balancer Controller " + appVersion + " IAM policy verbatim from upstream (policies/): Describe/Get and ACM/WAF/Shield/Cognito lookups need Resource *; creating, modifying and deleting load balancers and target groups, and deleting security groups, require the elbv2.k8s.aws/cluster tag; security-group ingress and creation, listener and rule edits and WAF/Shield association are unconditioned, as upstream grants them"
	nag.Suppress(c.ServiceAccount.Role, lbcReason,
		nag.Rule("AwsSolutions-IAM5",
			"Resource::*",
			"Resource::arn:<AWS::Partition>:ec2:*:*:security-group/*",
			"Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
			"Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
			"Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/app/*/*/*",
			"Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/net/*/*/*",
			"Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/app/*/*",
			"Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/net/*/*",
			"Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:targetgroup/*/*"))
	nag.SkipCheckov(c.ServiceAccount.Role, lbcReason, "CKV_AWS_111")
	c.CRDs = newCRDs(c.Construct, props.Cluster, appVersion)
	dependsOn := slices.Clone(props.DependsOn)
	for _, crd := range c.CRDs {
		dependsOn = append(dependsOn, crd)
	}
	c.Addon = helmaddon.New(c.Construct, "Helm", &helmaddon.Props{
		Cluster:        props.Cluster,
		Chart:          ChartName,
		Repository:     Repository,
		Version:        props.ChartVersion,
		Release:        ChartName,
		Namespace:      Namespace,
		Values:         chartValues(props, *awscdk.Stack_Of(scope).Region(), *props.Vpc.VpcId()),
		Wait:           true,
		SkipCrds:       true, // the CRD manifests above own them, upgrades included
		ServiceAccount: c.ServiceAccount,
		DependsOn:      dependsOn,
	})
	return c
}

// newCRDs applies the CRDs of controller version appVersion under
// scope/Crds, one manifest per CRD, named after it. Helm installs a chart's
// crds/ once and never upgrades them; these manifests are applied again
// whenever their content changes, so a version bump upgrades the CRDs.
//
// "kubectl apply" (Overwrite) also adopts CRDs an earlier Helm install
// created. The manifests are retained on delete: the cluster's deletion
// removes them, and a "kubectl delete" of a CRD would wait for its custom
// resources, whose finalizers need the controller that is uninstalled before.
func newCRDs(scope constructs.Construct, cluster awseksv2.ICluster, appVersion string) []awseksv2.KubernetesManifest {
	crds, err := CRDs(appVersion)
	if err != nil {
		panic(err.Error())
	}
	parent := constructs.NewConstruct(scope, jsii.String("Crds"))
	out := make([]awseksv2.KubernetesManifest, 0, len(crds))
	for _, crd := range crds {
		name := CRDName(crd)
		raw, err := json.Marshal(crd)
		if err != nil {
			panic(fmt.Sprintf("lbcontroller: CRD %s of %s: %v", name, appVersion, err))
		}
		if len(raw) > MaxCRDManifestBytes {
			panic(fmt.Sprintf("lbcontroller: CRD %s of %s is %d bytes as JSON, over the %d-byte annotation limit of client-side kubectl apply", name, appVersion, len(raw), MaxCRDManifestBytes))
		}
		m := awseksv2.NewKubernetesManifest(parent, jsii.String(name), &awseksv2.KubernetesManifestProps{
			Cluster:   cluster,
			Overwrite: jsii.Bool(true),
			// One object of fixed name per manifest: nothing to prune, and
			// no prune label added to the upstream object.
			Prune:    jsii.Bool(false),
			Manifest: &[]*map[string]any{&crd},
		})
		awscdk.RemovalPolicies_Of(m).Retain(nil)
		out = append(out, m)
	}
	return out
}
