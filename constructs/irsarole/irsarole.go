// Package irsarole provides Role: an IAM role that exactly one Kubernetes
// service account can assume, together with that ServiceAccount and,
// optionally, its Namespace. The account assumes it through IAM Roles for
// Service Accounts (IRSA, the default) or, with Props.PodIdentity, through
// an EKS Pod Identity association.
//
// Everything is created in the caller's scope (normally the add-ons stack),
// never in the cluster's stack, so using the construct from a second stack
// does not create a cyclic cross-stack reference. The construct reuses the
// cluster's IAM OIDC provider and never creates one: IAM accepts only one
// provider per issuer URL.
//
// The IRSA trust policy follows aws-cdk's own ServiceAccount
// (packages/aws-cdk-lib/aws-eks-v2/lib/service-account.ts, v2.276.0): the
// StringEquals condition keys are "<issuer>:sub" and "<issuer>:aud", where
// <issuer> is a CloudFormation token. A token cannot be a map key in Go, so
// the condition object is built by CloudFormation through awscdk.CfnJson.
//
// The Pod Identity trust policy lets only pods.eks.amazonaws.com assume the
// role (sts:AssumeRole and sts:TagSession) and only with the session tags
// EKS sets for this cluster, namespace and service account, so a second
// association of the role (another service account, another cluster) cannot
// use it: the same one-service-account precision as the IRSA trust.
package irsarole

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DefaultNamespace is the namespace used when Props.Namespace is empty, as in
// aws-cdk's ServiceAccount.
const DefaultNamespace = "default"

// RoleArnAnnotation is the ServiceAccount annotation the EKS pod identity
// webhook reads to inject web-identity credentials into pods (IRSA).
const RoleArnAnnotation = "eks.amazonaws.com/role-arn"

// PodIdentityPrincipal is the service principal of EKS Pod Identity.
const PodIdentityPrincipal = "pods.eks.amazonaws.com"

// Session tags EKS Pod Identity sets when it assumes a role for a pod
// (EKS User Guide, "Grant pods access to AWS resources based on tags").
const (
	// TagClusterArn is the session tag holding the cluster's ARN.
	TagClusterArn = "eks-cluster-arn"
	// TagNamespace is the session tag holding the pod's namespace.
	TagNamespace = "kubernetes-namespace"
	// TagServiceAccount is the session tag holding the pod's service account.
	TagServiceAccount = "kubernetes-service-account"
)

// Props configures a Role.
type Props struct {
	// Cluster is the EKS cluster whose OIDC provider the role trusts and in
	// which the ServiceAccount is created. Required. When it is an
	// awseksv2.Cluster in another stack, that stack must already have called
	// Cluster.OpenIdConnectProvider(); otherwise the provider would be added to
	// the cluster's stack by this construct.
	Cluster awseksv2.ICluster

	// Name is the ServiceAccount name. Required; a DNS subdomain name
	// (RFC 1123: lowercase alphanumerics, '-' and '.', at most 253
	// characters, starting and ending with an alphanumeric).
	Name string

	// Namespace is the ServiceAccount's namespace, an RFC 1123 label
	// (lowercase alphanumerics and '-', at most 63 characters, starting and
	// ending with an alphanumeric). Default: "default".
	Namespace string

	// CreateNamespace creates the namespace with a v1/Namespace manifest, on
	// which the ServiceAccount depends. Default: false, the namespace must
	// already exist. Must be false for namespaces Kubernetes always has
	// (default, kube-system, kube-public, kube-node-lease).
	CreateNamespace bool

	// PolicyDocuments are inline policies of the role, by policy name.
	// Default: no inline policies.
	PolicyDocuments map[string]awsiam.PolicyDocument

	// PodIdentity makes the role an EKS Pod Identity role: trusted by
	// pods.eks.amazonaws.com only for this cluster, namespace and service
	// account (session tags), associated with the ServiceAccount through an
	// AWS::EKS::PodIdentityAssociation, and the ServiceAccount carries no
	// role annotation. The cluster needs the eks-pod-identity-agent add-on.
	// Default: false, IRSA through the cluster's OIDC provider.
	PodIdentity bool
}

// Role is an IAM role assumable only by one Kubernetes service account, plus
// that ServiceAccount (and optionally its Namespace).
type Role struct {
	// Construct is this construct's node; every child is created under it.
	Construct constructs.Construct

	// Role is the IAM role (child id "Role"). Add permissions with
	// Role.AddToPrincipalPolicy or Role.AddManagedPolicy.
	Role awsiam.Role

	// ServiceAccount is the v1/ServiceAccount manifest (child id
	// "ServiceAccount"), annotated with the role's ARN. Make workloads that
	// use the account depend on it.
	ServiceAccount awseksv2.KubernetesManifest

	// Namespace is the v1/Namespace manifest (child id "Namespace"), or nil
	// when Props.CreateNamespace is false.
	Namespace awseksv2.KubernetesManifest

	// PodIdentityAssociation associates Role with the ServiceAccount (child
	// id "PodIdentityAssociation"), or nil with IRSA. The ServiceAccount
	// depends on it, so pods start only once EKS hands them credentials.
	PodIdentityAssociation awseksv2.CfnPodIdentityAssociation

	// ServiceAccountName is the ServiceAccount's name.
	ServiceAccountName string

	// NamespaceName is the ServiceAccount's namespace.
	NamespaceName string
}

// builtinNamespaces always exist and cannot be deleted.
var builtinNamespaces = map[string]bool{
	"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true,
}

// ValidateName reports whether name is a valid ServiceAccount name (RFC 1123
// DNS subdomain, at most 253 characters).
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("service account name is required")
	}
	if len(validation.IsDNS1123Subdomain(name)) > 0 {
		return fmt.Errorf("service account name %q is not a valid RFC 1123 subdomain (lowercase alphanumerics, '-' or '.', at most 253 characters, alphanumeric at both ends)", name)
	}
	return nil
}

// ValidateNamespace reports whether ns is a valid namespace name (RFC 1123
// DNS label, at most 63 characters).
func ValidateNamespace(ns string) error {
	if len(validation.IsDNS1123Label(ns)) > 0 {
		return fmt.Errorf("namespace %q is not a valid RFC 1123 label (lowercase alphanumerics or '-', at most 63 characters, alphanumeric at both ends)", ns)
	}
	return nil
}

// Subject is the OIDC "sub" claim of tokens issued to a service account.
func Subject(namespace, name string) string {
	return fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name)
}

// New creates the role, the ServiceAccount and, when asked, the Namespace in
// scope. It panics on programmer misuse (missing cluster, invalid names).
func New(scope constructs.Construct, id string, props *Props) *Role {
	if props == nil {
		panic("irsarole: props are required")
	}
	if props.Cluster == nil {
		panic("irsarole: cluster is required")
	}
	if err := ValidateName(props.Name); err != nil {
		panic("irsarole: " + err.Error())
	}
	ns := props.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	if err := ValidateNamespace(ns); err != nil {
		panic("irsarole: " + err.Error())
	}
	if props.CreateNamespace && builtinNamespaces[ns] {
		panic(fmt.Sprintf("irsarole: namespace %q always exists; CreateNamespace must be false", ns))
	}

	r := &Role{
		Construct:          constructs.NewConstruct(scope, jsii.String(id)),
		ServiceAccountName: props.Name,
		NamespaceName:      ns,
	}

	principal, description := irsaPrincipal(r.Construct, props.Cluster, ns, props.Name)
	if props.PodIdentity {
		principal, description = podIdentityPrincipal(props.Cluster, ns, props.Name)
	}
	roleProps := &awsiam.RoleProps{
		AssumedBy:   principal,
		Description: jsii.String(description),
	}
	if len(props.PolicyDocuments) > 0 {
		inline := make(map[string]awsiam.PolicyDocument, len(props.PolicyDocuments))
		for name, doc := range props.PolicyDocuments {
			inline[name] = doc
		}
		roleProps.InlinePolicies = &inline
	}
	r.Role = awsiam.NewRole(r.Construct, jsii.String("Role"), roleProps)

	if props.CreateNamespace {
		r.Namespace = awseksv2.NewKubernetesManifest(r.Construct, jsii.String("Namespace"), &awseksv2.KubernetesManifestProps{
			Cluster: props.Cluster,
			// apply instead of create: see the ServiceAccount below.
			Overwrite: jsii.Bool(true),
			Manifest: &[]*map[string]any{{
				"apiVersion": "v1",
				"kind":       "Namespace",
				"metadata": map[string]any{
					"name":   ns,
					"labels": labelsFor(ns),
				},
			}},
		})
	}

	// Overwrite: the handler then uses "kubectl apply" on create instead of
	// "kubectl create" (updates always use apply). The account name is chosen
	// by us for one controller, so adopting an existing account of that name
	// (left over from a failed delete, or from a hand-made install) and
	// setting our role annotation on it is what we want; failing the whole
	// deployment with AlreadyExists is not.
	metadata := map[string]any{
		"name":      props.Name,
		"namespace": ns,
		"labels":    labelsFor(props.Name),
	}
	if !props.PodIdentity {
		metadata["annotations"] = map[string]any{RoleArnAnnotation: r.Role.RoleArn()}
	}
	r.ServiceAccount = awseksv2.NewKubernetesManifest(r.Construct, jsii.String("ServiceAccount"), &awseksv2.KubernetesManifestProps{
		Cluster:   props.Cluster,
		Overwrite: jsii.Bool(true),
		Manifest: &[]*map[string]any{{
			"apiVersion": "v1",
			"kind":       "ServiceAccount",
			"metadata":   metadata,
		}},
	})
	if r.Namespace != nil {
		r.ServiceAccount.Node().AddDependency(r.Namespace)
	}
	if props.PodIdentity {
		// EKS accepts an association before the account exists; pods that
		// use the account start after it (ServiceAccount depends on it).
		r.PodIdentityAssociation = awseksv2.NewCfnPodIdentityAssociation(r.Construct, jsii.String("PodIdentityAssociation"), &awseksv2.CfnPodIdentityAssociationProps{
			ClusterName:    props.Cluster.ClusterName(),
			Namespace:      jsii.String(ns),
			ServiceAccount: jsii.String(props.Name),
			RoleArn:        r.Role.RoleArn(),
		})
		r.ServiceAccount.Node().AddDependency(r.PodIdentityAssociation)
	}
	return r
}

// irsaPrincipal is the cluster's OIDC provider, for tokens whose subject is
// the service account and whose audience is STS.
func irsaPrincipal(scope constructs.Construct, cluster awseksv2.ICluster, ns, name string) (awsiam.IPrincipal, string) {
	// The cluster's provider, never a new one (one provider per issuer URL).
	provider := cluster.OpenIdConnectProvider()
	issuer := *provider.OpenIdConnectProviderIssuer() // token: "oidc.eks.<region>.amazonaws.com/id/<ID>"
	conditions := awscdk.NewCfnJson(scope, jsii.String("Conditions"), &awscdk.CfnJsonProps{
		Value: map[string]any{
			issuer + ":sub": Subject(ns, name),
			issuer + ":aud": "sts.amazonaws.com",
		},
	})
	return awsiam.NewOpenIdConnectPrincipal(provider, &map[string]any{
		"StringEquals": conditions.Value(),
	}), "IRSA role for " + Subject(ns, name)
}

// podIdentityPrincipal is EKS Pod Identity, allowed sts:AssumeRole and
// sts:TagSession only with the session tags of this cluster, namespace and
// service account.
func podIdentityPrincipal(cluster awseksv2.ICluster, ns, name string) (awsiam.IPrincipal, string) {
	return awsiam.NewSessionTagsPrincipal(awsiam.NewPrincipalWithConditions(
		awsiam.NewServicePrincipal(jsii.String(PodIdentityPrincipal), nil),
		&map[string]any{"StringEquals": map[string]any{
			"aws:RequestTag/" + TagClusterArn:     cluster.ClusterArn(),
			"aws:RequestTag/" + TagNamespace:      ns,
			"aws:RequestTag/" + TagServiceAccount: name,
		}},
	)), "EKS Pod Identity role for " + Subject(ns, name)
}

// labelsFor returns the labels of the ServiceAccount (and Namespace) name.
func labelsFor(name string) map[string]any {
	return map[string]any{
		"app.kubernetes.io/name":       name,
		"app.kubernetes.io/managed-by": "aws-cdk",
	}
}
