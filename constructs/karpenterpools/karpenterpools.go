package karpenterpools

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure New.
type Props struct {
	// Cluster is the EKS cluster the objects are applied to (required).
	Cluster awseksv2.ICluster
	// KubernetesVersion is the cluster's version, e.g. "1.35" (required);
	// Validate checks the AMI families against it.
	KubernetesVersion string
	// NodeClasses are the EC2NodeClasses to create (at least one).
	NodeClasses []EC2NodeClass
	// NodePools are the NodePools to create (at least one); each must refer
	// to one of NodeClasses.
	NodePools []NodePool
	// DependsOn are the constructs that install the Karpenter CRDs and the
	// controller, typically the karpenter-crd and karpenter HelmCharts
	// (required). Every manifest depends on them: it is applied after them
	// and deleted before them, while the controller can still drain nodes,
	// terminate instances and remove launch templates and instance profiles.
	// Add anything else nodes need until they are gone, such as the node
	// role's access entry, so that it is deleted after the nodes too.
	DependsOn []constructs.IDependable
}

// Pools is the KarpenterPools construct: one KubernetesManifest per
// EC2NodeClass and per NodePool.
type Pools struct {
	// Construct is this construct's node, the scope of the manifests.
	Construct constructs.Construct
	// NodeClasses are the EC2NodeClass manifests by object name (child id
	// "EC2NodeClass-<name>").
	NodeClasses map[string]awseksv2.KubernetesManifest
	// NodePools are the NodePool manifests by object name (child id
	// "NodePool-<name>"); each depends on its EC2NodeClass manifest.
	NodePools map[string]awseksv2.KubernetesManifest
}

// New renders props.NodeClasses and props.NodePools to KubernetesManifests in
// scope's stack. Dependencies give this order: charts, EC2NodeClasses,
// NodePools on create; the reverse on delete. Deleting a NodePool lets
// Karpenter drain and terminate its nodes (its NodeClaims are garbage
// collected); deleting an EC2NodeClass waits, through Karpenter's
// finalizer, until no NodeClaim uses it and its instance profiles and
// launch templates are removed.
//
// New panics if a required prop is missing or Validate rejects the objects:
// configuration is validated before any construct is built.
func New(scope constructs.Construct, id string, props *Props) *Pools {
	if props == nil {
		panic("karpenterpools: props are required")
	}
	if props.Cluster == nil {
		panic("karpenterpools: Cluster is required")
	}
	if len(props.NodeClasses) == 0 {
		panic("karpenterpools: at least one EC2NodeClass is required")
	}
	if len(props.NodePools) == 0 {
		panic("karpenterpools: at least one NodePool is required")
	}
	if len(props.DependsOn) == 0 {
		panic("karpenterpools: DependsOn must name the constructs that install the Karpenter CRDs and controller")
	}
	if err := Validate(props.KubernetesVersion, props.NodeClasses, props.NodePools); err != nil {
		panic(fmt.Sprintf("karpenterpools: %v", err))
	}

	p := &Pools{
		Construct:   constructs.NewConstruct(scope, jsii.String(id)),
		NodeClasses: map[string]awseksv2.KubernetesManifest{},
		NodePools:   map[string]awseksv2.KubernetesManifest{},
	}
	for _, c := range props.NodeClasses {
		m := p.manifest("EC2NodeClass-"+c.Metadata.Name, props.Cluster, c)
		dependOn(m, props.DependsOn)
		p.NodeClasses[c.Metadata.Name] = m
	}
	for _, np := range props.NodePools {
		m := p.manifest("NodePool-"+np.Metadata.Name, props.Cluster, np)
		dependOn(m, props.DependsOn)
		m.Node().AddDependency(p.NodeClasses[np.Spec.Template.Spec.NodeClassRef.Name])
		p.NodePools[np.Metadata.Name] = m
	}
	return p
}

func (p *Pools) manifest(id string, cluster awseksv2.ICluster, obj any) awseksv2.KubernetesManifest {
	m, err := ToManifest(obj)
	if err != nil {
		panic(fmt.Sprintf("karpenterpools: %s: %v", id, err))
	}
	return awseksv2.NewKubernetesManifest(p.Construct, jsii.String(id), &awseksv2.KubernetesManifestProps{
		Cluster:  cluster,
		Manifest: &[]*map[string]any{&m},
		// Apply instead of create: an object left by an interrupted
		// deployment is adopted instead of failing the resource.
		Overwrite: jsii.Bool(true),
	})
}

// ToManifest converts an EC2NodeClass or NodePool (or any JSON-marshalable
// object) into the generic map a KubernetesManifest takes. CDK tokens in
// string fields survive and are resolved by CloudFormation.
func ToManifest(obj any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	return m, nil
}

func dependOn(m awseksv2.KubernetesManifest, deps []constructs.IDependable) {
	for _, d := range deps {
		m.Node().AddDependency(d)
	}
}
