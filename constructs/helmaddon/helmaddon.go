// Package helmaddon provides Addon: one Helm release with a pinned chart
// version, installed through awseksv2.HelmChart in the caller's scope (never
// cluster.AddHelmChart, which would put it in the cluster's stack).
//
// Values are the caller's Values plus, when a ServiceAccount is given,
// serviceAccount.create=false and serviceAccount.name=<account>.
//
// Repositories: for an https:// repository the handler runs
// "helm upgrade --install <release> <chart> --repo <repository>". For an
// oci:// repository the aws-cdk-lib 2.276.0 (aws-eks-v2) kubectl handler runs
// "helm pull <Repository property> --version <version> --untar" and installs
// the directory named after the last path segment of that property, so the
// property must be the full chart reference. Addon therefore passes
// "<Repository>/<Chart>" to the handler for OCI (for Props{Repository:
// "oci://public.ecr.aws/karpenter", Chart: "karpenter"} the handler pulls
// oci://public.ecr.aws/karpenter/karpenter, as "helm install
// oci://public.ecr.aws/karpenter/karpenter" does).
package helmaddon

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/constructs/irsarole"
)

// DefaultTimeoutMinutes is the Helm --timeout used when Props.Timeout is nil
// (Helm's own default, made explicit in the template).
const DefaultTimeoutMinutes = 5

// MaxTimeoutSeconds is the largest Props.Timeout: the kubectl handler Lambda
// that runs helm stops after 15 minutes, and aws-eks-v2's HelmChart (2.276.0)
// rejects more.
const MaxTimeoutSeconds = 900

// MaxReleaseLength is Helm's limit on release names.
const MaxReleaseLength = 53

// Props configures an Addon. Field names follow Helm's vocabulary.
type Props struct {
	// Cluster is the EKS cluster to install into. Required.
	Cluster awseksv2.ICluster

	// Chart is the chart name, e.g. "aws-load-balancer-controller". Required;
	// a plain name, the repository goes in Repository.
	Chart string

	// Repository is the chart repository: an https:// Helm repository
	// ("https://aws.github.io/eks-charts") or an oci:// registry path without
	// the chart name ("oci://public.ecr.aws/karpenter"). Required.
	Repository string

	// Version is the exact chart version (semantic version such as "1.14.1",
	// an optional leading "v" allowed). Required: ranges, wildcards and
	// "latest" are rejected so that a deploy is reproducible.
	Version string

	// Release is the Helm release name. Required: changing it uninstalls the
	// old release and installs a new one. An RFC 1123 subdomain of at most
	// 53 characters, as Helm requires.
	Release string

	// Namespace is the release namespace. Default: the ServiceAccount's
	// namespace when ServiceAccount is set, else "default".
	Namespace string

	// CreateNamespace passes --create-namespace to Helm. Default: false (the
	// namespace must exist, or be created by an irsarole.Role with
	// CreateNamespace). Helm never deletes a namespace it created.
	CreateNamespace bool

	// Values are the values computed by the caller. Default: none.
	Values map[string]any

	// Wait passes --wait: the release succeeds only when its workloads are
	// ready. Default: false.
	Wait bool

	// Timeout is Helm's --timeout. Default: 5 minutes. At most 15 minutes.
	Timeout awscdk.Duration

	// SkipCrds passes --skip-crds. Default: false (CRDs in the chart's crds/
	// directory are installed if absent; Helm never upgrades them).
	SkipCrds bool

	// ServiceAccount is the IRSA service account the chart's pods run as.
	// When set, the chart depends on its ServiceAccount manifest (so it is
	// uninstalled before the account is deleted), the release namespace must
	// be the account's namespace, and the values serviceAccount.create=false
	// and serviceAccount.name=<name> are added to Values (the "helm create"
	// convention, used by the aws-load-balancer-controller and karpenter
	// charts; Values must not set serviceAccount itself). Default: none.
	ServiceAccount *irsarole.Role

	// DependsOn are constructs the release must be installed after (and
	// uninstalled before), e.g. a CRD chart's Addon.Chart. Default: none.
	DependsOn []constructs.IDependable
}

// Addon is one Helm release.
type Addon struct {
	// Construct is this construct's node; every child is created under it.
	Construct constructs.Construct

	// Chart is the Helm release resource (child id "Chart").
	Chart awseksv2.HelmChart

	// Release is the Helm release name.
	Release string

	// Namespace is the release namespace.
	Namespace string

	// Repository is the repository as given to the kubectl handler (for OCI,
	// the full chart reference "<Props.Repository>/<Chart>").
	Repository string

	// Values are the merged values sent to Helm.
	Values map[string]any
}

var (
	chartName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// exactSemver is a full SemVer 2.0.0 version (semver.org grammar) with an
	// optional leading "v": MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
	exactSemver = regexp.MustCompile(`^v?` +
		`(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)` +
		`(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?` +
		`(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
)

// ValidateVersion reports whether v is an exact chart version.
func ValidateVersion(v string) error {
	if v == "" {
		return fmt.Errorf("version is required (pin an exact chart version)")
	}
	if !exactSemver.MatchString(v) {
		return fmt.Errorf("version %q is not an exact semantic version (ranges, wildcards and \"latest\" are not allowed)", v)
	}
	return nil
}

// ValidateRepository reports whether r is an https:// or oci:// URL with a host.
func ValidateRepository(r string) error {
	if r == "" {
		return fmt.Errorf("repository is required")
	}
	u, err := url.Parse(r)
	if err != nil || (u.Scheme != "https" && u.Scheme != "oci") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(r, " \t\n") {
		return fmt.Errorf("repository %q is not an https:// or oci:// URL", r)
	}
	return nil
}

// ValidateRelease reports whether r is a valid Helm release name.
func ValidateRelease(r string) error {
	if r == "" {
		return fmt.Errorf("release is required")
	}
	if len(r) > MaxReleaseLength || len(validation.IsDNS1123Subdomain(r)) > 0 {
		return fmt.Errorf("release %q is not a valid Helm release name (RFC 1123 subdomain, at most %d characters)", r, MaxReleaseLength)
	}
	return nil
}

// New creates the Helm release in scope. It panics on programmer misuse
// (missing or invalid props).
func New(scope constructs.Construct, id string, props *Props) *Addon {
	if props == nil {
		panic("helmaddon: props are required")
	}
	if props.Cluster == nil {
		panic("helmaddon: cluster is required")
	}
	if props.Chart == "" {
		panic("helmaddon: chart is required")
	}
	if !chartName.MatchString(props.Chart) {
		panic(fmt.Sprintf("helmaddon: chart %q is not a plain chart name (put the repository in Repository)", props.Chart))
	}
	for _, err := range []error{
		ValidateRepository(props.Repository),
		ValidateVersion(props.Version),
		ValidateRelease(props.Release),
	} {
		if err != nil {
			panic("helmaddon: " + err.Error())
		}
	}
	ns := props.Namespace
	if ns == "" {
		ns = "default"
		if props.ServiceAccount != nil {
			ns = props.ServiceAccount.NamespaceName
		}
	}
	if err := irsarole.ValidateNamespace(ns); err != nil {
		panic("helmaddon: " + err.Error())
	}
	if sa := props.ServiceAccount; sa != nil && sa.NamespaceName != ns {
		panic(fmt.Sprintf("helmaddon: release namespace %q differs from the service account's namespace %q", ns, sa.NamespaceName))
	}
	timeout := props.Timeout
	if timeout == nil {
		timeout = awscdk.Duration_Minutes(jsii.Number(DefaultTimeoutMinutes))
	}
	if secs := *timeout.ToSeconds(nil); secs > MaxTimeoutSeconds || secs < 1 {
		panic(fmt.Sprintf("helmaddon: timeout %vs is not between 1s and %ds (the kubectl handler Lambda stops after 15 minutes)", secs, MaxTimeoutSeconds))
	}

	repository := props.Repository
	if strings.HasPrefix(repository, "oci://") {
		repository = strings.TrimSuffix(repository, "/") + "/" + props.Chart
	}

	values := maps.Clone(props.Values)
	if sa := props.ServiceAccount; sa != nil {
		if _, set := values["serviceAccount"]; set {
			panic("helmaddon: Values set serviceAccount, which ServiceAccount sets")
		}
		if values == nil {
			values = map[string]any{}
		}
		values["serviceAccount"] = map[string]any{"create": false, "name": sa.ServiceAccountName}
	}

	a := &Addon{
		Construct:  constructs.NewConstruct(scope, jsii.String(id)),
		Release:    props.Release,
		Namespace:  ns,
		Repository: repository,
		Values:     values,
	}
	chartProps := &awseksv2.HelmChartProps{
		Cluster:         props.Cluster,
		Chart:           jsii.String(props.Chart),
		Repository:      jsii.String(repository),
		Version:         jsii.String(props.Version),
		Release:         jsii.String(props.Release),
		Namespace:       jsii.String(ns),
		CreateNamespace: jsii.Bool(props.CreateNamespace),
		Wait:            jsii.Bool(props.Wait),
		Timeout:         timeout,
		SkipCrds:        jsii.Bool(props.SkipCrds),
	}
	if len(values) > 0 {
		chartProps.Values = &values
	}
	a.Chart = awseksv2.NewHelmChart(a.Construct, jsii.String("Chart"), chartProps)
	if sa := props.ServiceAccount; sa != nil {
		a.Chart.Node().AddDependency(sa.ServiceAccount)
	}
	for _, d := range props.DependsOn {
		a.Chart.Node().AddDependency(d)
	}
	return a
}
