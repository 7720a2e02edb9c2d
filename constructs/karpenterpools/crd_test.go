package karpenterpools

import (
	"reflect"
	"sync"
	"testing"

	"github.com/hybrid-llm/platform/config"
	"github.com/hybrid-llm/platform/internal/testing/crdvalidate"
	"github.com/hybrid-llm/platform/platform"
)

// testAMIAlias is a real AL2023 EKS AMI release with Kubernetes 1.33-1.36
// standard, NVIDIA and Neuron images (awslabs/amazon-eks-ami CHANGELOG, AMI
// Release v20260714).
const testAMIAlias = "al2023@v20260714"

var testInput = NodeClassInput{
	ClusterName:            "hybrid-llm",
	ClusterSecurityGroupID: "sg-0123456789abcdef0",
	NodeRoleName:           "KarpenterNodeRole-hybrid-llm",
	AMIAlias:               testAMIAlias,
	Tags:                   map[string]string{"project": "hybrid-llm"},
}

var (
	crdsOnce                sync.Once
	nodePoolCRD, nodeClsCRD *crdvalidate.CRD
	crdsErr                 error
)

// crds loads the Karpenter v1.14.1 CRDs kept in testdata/crds.
func crds(t *testing.T) (nodePools, nodeClasses *crdvalidate.CRD) {
	t.Helper()
	crdsOnce.Do(func() {
		nodePoolCRD, crdsErr = crdvalidate.Load("testdata/crds/karpenter.sh_nodepools.yaml")
		if crdsErr == nil {
			nodeClsCRD, crdsErr = crdvalidate.Load("testdata/crds/karpenter.k8s.aws_ec2nodeclasses.yaml")
		}
	})
	if crdsErr != nil {
		t.Fatalf("loading CRDs: %v", crdsErr)
	}
	return nodePoolCRD, nodeClsCRD
}

// crdErrors validates obj (an EC2NodeClass or NodePool) against its CRD and
// returns the error strings.
func crdErrors(t *testing.T, obj any) []string {
	t.Helper()
	pools, classes := crds(t)
	m, err := ToManifest(obj)
	if err != nil {
		t.Fatal(err)
	}
	crd := classes
	if _, ok := obj.(NodePool); ok {
		crd = pools
	}
	_, errs := crd.ValidateObject(m)
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestDefaultsPassCRDs(t *testing.T) {
	for _, c := range DefaultEC2NodeClasses(testInput) {
		t.Run("EC2NodeClass "+c.Metadata.Name, func(t *testing.T) {
			if errs := crdErrors(t, c); len(errs) > 0 {
				t.Errorf("rejected by the v1.14.1 CRD: %q", errs)
			}
		})
	}
	for _, p := range configuredPools() {
		t.Run("NodePool "+p.Metadata.Name, func(t *testing.T) {
			if errs := crdErrors(t, p); len(errs) > 0 {
				t.Errorf("rejected by the v1.14.1 CRD: %q", errs)
			}
		})
	}
}

// defaultClass returns the default EC2NodeClass of that name.
func defaultClass(name string) EC2NodeClass {
	for _, c := range DefaultEC2NodeClasses(testInput) {
		if c.Metadata.Name == name {
			return c
		}
	}
	panic("no default class " + name)
}

// configuredPools renders the NodePools config.Load derives from the
// default configuration, as the add-ons stack deploys them.
func configuredPools() []NodePool { return loadPools(nil) }

// loadPools renders the NodePools config.Load derives from context.
func loadPools(context map[string]any) []NodePool {
	cfg, err := config.Load(context)
	if err != nil {
		panic(err)
	}
	return RenderNodePools(cfg.Karpenter.NodePools)
}

// extraPoolsContext adds one user pool per node class to the defaults.
var extraPoolsContext = map[string]any{"hybridLlm.karpenter.extraPools": `[
	{"name":"batch","nodeClass":"system","capacityTypes":["spot"],"instanceFamilies":["c7i"],"cpuLimit":16,"consolidateAfter":"5m","consolidationPolicy":"WhenEmpty","labels":{"team":"ml"},"taints":["batch=true:NoSchedule"]},
	{"name":"big-gpu","nodeClass":"gpu","capacityTypes":["on-demand"],"instanceFamilies":["g6e"],"gpuLimit":4,"consolidateAfter":"10m","consolidationPolicy":"WhenEmpty"}]`}

// TestExtraPoolsPassCRDsAndValidate renders user pools as the add-ons stack
// would deploy them and validates them as the API server would (Karpenter
// v1.14.1 CRDs: schema and CEL rules) and with Validate.
func TestExtraPoolsPassCRDsAndValidate(t *testing.T) {
	pools := loadPools(extraPoolsContext)
	if len(pools) != 4 {
		t.Fatalf("%d pools, want system, gpu, batch, big-gpu", len(pools))
	}
	if err := Validate("1.35", DefaultEC2NodeClasses(testInput), pools); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for _, p := range pools {
		if errs := crdErrors(t, p); len(errs) > 0 {
			t.Errorf("NodePool %s rejected by the v1.14.1 CRD: %q", p.Metadata.Name, errs)
		}
	}
}

// defaultPool returns the default NodePool of that name.
func defaultPool(name string) NodePool {
	for _, p := range configuredPools() {
		if p.Metadata.Name == name {
			return p
		}
	}
	panic("no default pool " + name)
}

const celSkipped = `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`

func TestCRDRejectsEC2NodeClass(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *EC2NodeClass)
		want   []string
	}{
		{
			name:   "no amiSelectorTerms",
			mutate: func(c *EC2NodeClass) { c.Spec.AMISelectorTerms = nil },
			want:   []string{`spec.amiSelectorTerms: Required value`, celSkipped},
		},
		{
			name:   "alias with eks/ family",
			mutate: func(c *EC2NodeClass) { c.Spec.AMISelectorTerms = []AMISelectorTerm{{Alias: "eks/1.32@latest"}} },
			want: []string{
				`spec.amiSelectorTerms[0].alias: Invalid value: "string": 'alias' is improperly formatted, must match the format 'family@version'`,
				`spec.amiSelectorTerms[0].alias: Invalid value: "string": family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'`,
			},
		},
		{
			name:   "amiFamily AL2 with an al2023 alias",
			mutate: func(c *EC2NodeClass) { c.Spec.AMIFamily = "AL2" },
			want:   []string{`spec: Invalid value: "object": if set, amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias`},
		},
		{
			name: "alias combined with another term",
			mutate: func(c *EC2NodeClass) {
				c.Spec.AMISelectorTerms = append(c.Spec.AMISelectorTerms, AMISelectorTerm{ID: "ami-0123456789abcdef0"})
			},
			want: []string{`spec.amiSelectorTerms: Invalid value: "array": 'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms`},
		},
		{
			name:   "alias combined with another field",
			mutate: func(c *EC2NodeClass) { c.Spec.AMISelectorTerms[0].Owner = "amazon" },
			want:   []string{`spec.amiSelectorTerms: Invalid value: "array": 'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms`},
		},
		{
			name:   "role and instanceProfile",
			mutate: func(c *EC2NodeClass) { c.Spec.InstanceProfile = "KarpenterNodeInstanceProfile" },
			want:   []string{`spec: Invalid value: "object": must specify exactly one of ['role', 'instanceProfile']`},
		},
		{
			name:   "restricted tag",
			mutate: func(c *EC2NodeClass) { c.Spec.Tags = map[string]string{"kubernetes.io/cluster/hybrid-llm": "owned"} },
			want:   []string{`spec.tags: Invalid value: "object": tag contains a restricted tag matching kubernetes.io/cluster/`},
		},
		{
			name:   "unsupported instanceStorePolicy",
			mutate: func(c *EC2NodeClass) { c.Spec.InstanceStorePolicy = "RAID1" },
			want:   []string{`spec.instanceStorePolicy: Unsupported value: "RAID1": supported values: "RAID0"`, celSkipped},
		},
		{
			name:   "hop limit out of range",
			mutate: func(c *EC2NodeClass) { c.Spec.MetadataOptions.HTTPPutResponseHopLimit = ptr(int64(0)) },
			want:   []string{`spec.metadataOptions.httpPutResponseHopLimit: Invalid value: 0: spec.metadataOptions.httpPutResponseHopLimit in body should be greater than or equal to 1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultClass(GPUClass)
			tt.mutate(&c)
			if got := crdErrors(t, c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CRD errors:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCRDRejectsNodePool(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *NodePool)
		want   []string
	}{
		{
			name:   "disruption without consolidateAfter",
			mutate: func(p *NodePool) { p.Spec.Disruption.ConsolidateAfter = "" },
			want:   []string{`spec.disruption.consolidateAfter: Required value`, celSkipped},
		},
		{
			name:   "unknown consolidation policy",
			mutate: func(p *NodePool) { p.Spec.Disruption.ConsolidationPolicy = "WhenIdle" },
			want:   []string{`spec.disruption.consolidationPolicy: Unsupported value: "WhenIdle": supported values: "WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"`, celSkipped},
		},
		{
			name: "restricted karpenter.sh label",
			mutate: func(p *NodePool) {
				p.Spec.Template.Metadata.Labels["karpenter.sh/pool"] = "x"
			},
			want: []string{`spec.template.metadata.labels: Invalid value: "object": label domain "karpenter.sh" is restricted`},
		},
		{
			name: "In requirement without values",
			mutate: func(p *NodePool) {
				p.Spec.Template.Spec.Requirements = append(p.Spec.Template.Spec.Requirements, NodeSelectorRequirement{Key: platform.LabelInstanceSize, Operator: "In"})
			},
			want: []string{`spec.template.spec.requirements: Invalid value: "array": no such key: values evaluating rule: requirements with operator 'In' must have a value defined`},
		},
		{
			name:   "bad taint effect",
			mutate: func(p *NodePool) { p.Spec.Template.Spec.Taints[0].Effect = "NoScheduleAtAll" },
			want:   []string{`spec.template.spec.taints[0].effect: Unsupported value: "NoScheduleAtAll": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`, celSkipped},
		},
		{
			name:   "malformed limit",
			mutate: func(p *NodePool) { p.Spec.Limits[platform.ResourceGPU] = "eight" },
			want:   []string{`spec.limits.nvidia.com/gpu: Invalid value: "eight": spec.limits.nvidia.com/gpu in body should match '^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$'`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := defaultPool(GPUClass)
			tt.mutate(&p)
			if got := crdErrors(t, p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CRD errors:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestCRDAccepts documents what the CRD lets through and Validate must catch.
func TestCRDAccepts(t *testing.T) {
	al2ByID := defaultClass(SystemClass)
	al2ByID.Spec.AMIFamily = "AL2"
	al2ByID.Spec.AMISelectorTerms = []AMISelectorTerm{{ID: "ami-0123456789abcdef0"}}
	al2Alias := defaultClass(SystemClass)
	al2Alias.Spec.AMISelectorTerms = []AMISelectorTerm{{Alias: "al2@v20250101"}}
	noDisruption := defaultPool(SystemClass)
	noDisruption.Spec.Disruption = nil
	noLimits := defaultPool(SystemClass)
	noLimits.Spec.Limits = nil
	for name, obj := range map[string]any{
		"amiFamily AL2 with an id term": al2ByID,
		"al2 alias":                     al2Alias,
		"NodePool without disruption":   noDisruption,
		"NodePool without limits":       noLimits,
	} {
		t.Run(name, func(t *testing.T) {
			if errs := crdErrors(t, obj); len(errs) > 0 {
				t.Errorf("CRD rejected it (%q); move the case to the CRD tests", errs)
			}
		})
	}
}
