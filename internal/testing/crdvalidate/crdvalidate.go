package crdvalidate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// CRD is a parsed apiextensions.k8s.io/v1 CustomResourceDefinition with the
// validators of each of its versions built once.
type CRD struct {
	// Definition is the CRD as decoded from its file.
	Definition *apiextensionsv1.CustomResourceDefinition
	versions   map[string]*version
}

type version struct {
	served     bool
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

// Load reads and parses one CRD file (YAML or JSON). See Parse.
func Load(path string) (*CRD, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crdvalidate: %w", err)
	}
	crd, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("crdvalidate: %s: %w", path, err)
	}
	return crd, nil
}

// Parse decodes a single apiextensions.k8s.io/v1 CustomResourceDefinition and
// builds, for every version with a schema, the structural schema, the OpenAPI
// schema validator and the compiled CEL rules. It fails if a schema is not
// structural or a CEL rule does not compile, as the API server would refuse
// such a CRD.
func Parse(data []byte) (*CRD, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		return nil, fmt.Errorf("decoding CustomResourceDefinition: %w", err)
	}
	if crd.APIVersion != apiextensionsv1.SchemeGroupVersion.String() || crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("got %s %s, want %s CustomResourceDefinition", crd.APIVersion, crd.Kind, apiextensionsv1.SchemeGroupVersion)
	}
	if crd.Spec.PreserveUnknownFields {
		return nil, fmt.Errorf("%s: spec.preserveUnknownFields is not supported", crd.Name)
	}
	c := &CRD{Definition: &crd, versions: map[string]*version{}}
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("%s: version %q has no openAPIV3Schema", crd.Name, v.Name)
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			return nil, fmt.Errorf("%s: version %q: converting schema: %w", crd.Name, v.Name, err)
		}
		s, err := structuralschema.NewStructural(&internal)
		if err != nil {
			return nil, fmt.Errorf("%s: version %q: schema is not structural: %w", crd.Name, v.Name, err)
		}
		if errs := structuralschema.ValidateStructural(nil, s); len(errs) > 0 {
			return nil, fmt.Errorf("%s: version %q: schema is not structural: %w", crd.Name, v.Name, errs.ToAggregate())
		}
		// The API server serves with a copy whose defaults are pruned
		// (apiextensions-apiserver customresource_handler.go).
		s = s.DeepCopy()
		if err := structuraldefaulting.PruneDefaults(s); err != nil {
			return nil, fmt.Errorf("%s: version %q: pruning defaults: %w", crd.Name, v.Name, err)
		}
		validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
		if err != nil {
			return nil, fmt.Errorf("%s: version %q: building schema validator: %w", crd.Name, v.Name, err)
		}
		// CEL rules that fail to compile are reported by the validator as
		// "rule compile error" field errors on every object that reaches them.
		celValidator := cel.NewValidator(s, true, celconfig.PerCallLimit)
		c.versions[v.Name] = &version{served: v.Served, structural: s, schema: validator, cel: celValidator}
	}
	return c, nil
}

// Validate checks obj as a create request for the given served version. obj
// is not modified; the returned object is the one the API server would
// store: unknown fields pruned, defaults applied. The error list is empty when
// the API server would accept the object; its entries carry field paths such
// as spec.amiSelectorTerms[0].alias.
func (c *CRD) Validate(versionName string, obj map[string]any) (map[string]any, field.ErrorList) {
	v, ok := c.versions[versionName]
	if !ok || !v.served {
		return nil, field.ErrorList{field.NotSupported(field.NewPath("apiVersion"), versionName, c.servedVersions())}
	}
	u, err := normalize(obj)
	if err != nil {
		return nil, field.ErrorList{field.InternalError(nil, err)}
	}
	if errs := c.validateTypeMeta(versionName, u); len(errs) > 0 {
		return u, errs
	}

	var errs field.ErrorList
	// Decoding: metadata coercion, pruning of unknown fields. kubectl sends
	// fieldValidation=Strict by default, which turns pruned fields into errors.
	objectMeta, found, metaUnknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return u, field.ErrorList{field.Invalid(field.NewPath("metadata"), u["metadata"], err.Error())}
	}
	unknown := append([]string(nil), metaUnknown...)
	unknown = append(unknown, structuralpruning.PruneWithOptions(u, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u, v.structural)
	ferr, coerceUnknown := schemaobjectmeta.CoerceWithOptions(nil, u, v.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		errs = append(errs, ferr)
	}
	unknown = append(unknown, coerceUnknown...)
	if found {
		if err := schemaobjectmeta.SetObjectMeta(u, objectMeta); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("metadata"), u["metadata"], err.Error()))
		}
	}
	if len(unknown) > 0 {
		// A strict decoding error ends the request before validation.
		for _, p := range unknown {
			errs = append(errs, &field.Error{Type: field.ErrorTypeNotSupported, Field: p, Detail: "unknown field (kubectl's default strict field validation rejects it)"})
		}
		return u, errs
	}

	// Defaulting, then validation as in the customresource strategy.
	structuraldefaulting.Default(u, v.structural)
	namespaced := c.Definition.Spec.Scope == apiextensionsv1.NamespaceScoped
	errs = append(errs, metavalidation.ValidateObjectMetaAccessor(&unstructured.Unstructured{Object: u}, namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u, v.schema)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, u, v.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, v.structural, u)...)
	if v.cel != nil {
		if hasBlocking(errs) {
			errs = append(errs, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"))
		} else {
			celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, u, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	return u, errs
}

// ValidateObject validates obj for the version named in its apiVersion.
func (c *CRD) ValidateObject(obj map[string]any) (map[string]any, field.ErrorList) {
	apiVersion, _ := obj["apiVersion"].(string)
	group, ver, ok := strings.Cut(apiVersion, "/")
	if !ok || group != c.Definition.Spec.Group {
		return nil, field.ErrorList{field.Invalid(field.NewPath("apiVersion"), obj["apiVersion"], fmt.Sprintf("must be %s/<version>", c.Definition.Spec.Group))}
	}
	return c.Validate(ver, obj)
}

func (c *CRD) validateTypeMeta(versionName string, u map[string]any) field.ErrorList {
	var errs field.ErrorList
	wantAPIVersion := c.Definition.Spec.Group + "/" + versionName
	if got, _ := u["apiVersion"].(string); got != wantAPIVersion {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), u["apiVersion"], fmt.Sprintf("must be %s", wantAPIVersion)))
	}
	if got, _ := u["kind"].(string); got != c.Definition.Spec.Names.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u["kind"], fmt.Sprintf("must be %s", c.Definition.Spec.Names.Kind)))
	}
	return errs
}

func (c *CRD) servedVersions() []string {
	var out []string
	for _, v := range c.Definition.Spec.Versions {
		if v.Served {
			out = append(out, v.Name)
		}
	}
	return out
}

// normalize deep-copies obj through JSON the way the API server decodes a
// request body: integers become int64, other numbers float64.
func normalize(obj map[string]any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding object: %w", err)
	}
	var u map[string]any
	if err := utiljson.Unmarshal(data, &u); err != nil {
		return nil, fmt.Errorf("decoding object: %w", err)
	}
	return u, nil
}

// hasBlocking mirrors the API server's customresource strategy: CEL rules
// are skipped when schema validation already found errors that make rule
// evaluation unsafe or too costly.
func hasBlocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}
