// Package crdvalidate checks Kubernetes custom resources against the
// CustomResourceDefinition that serves them, offline, the way the API server
// does on create: it prunes and reports unknown fields (kubectl's default
// strict field validation), applies structural-schema defaults, validates
// object metadata and the OpenAPI v3 schema (types, enums, patterns, required,
// bounds, list types), and evaluates the CEL x-kubernetes-validations rules.
//
// It is test support: import it only from _test.go files. It composes the
// exported building blocks of k8s.io/apiextensions-apiserver (structural
// schema, pruning, defaulting, validation, schema/cel), so a manifest that
// passes here is accepted by an API server of the same minor version.
package crdvalidate
