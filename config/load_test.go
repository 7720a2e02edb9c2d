package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestEveryKeyCanBeSetFromTheCLI walks Config's JSON keys and sets each one
// with a "-c hybridLlm.<key>=<string>" value of its type: conversion follows
// the field's type, not its default, so no key is out of the CLI's reach.
func TestEveryKeyCanBeSetFromTheCLI(t *testing.T) {
	sample := map[reflect.Kind]string{
		reflect.String: "x", reflect.Int: "1", reflect.Bool: "true",
		reflect.Slice: "[]", reflect.Map: "{}",
	}
	var walk func(typ reflect.Type, path []string)
	walk = func(typ reflect.Type, path []string) {
		for name, ft := range jsonFields(typ) {
			p := append(append([]string(nil), path...), name)
			if ft.Kind() == reflect.Struct {
				walk(ft, p)
				continue
			}
			value, ok := sample[ft.Kind()]
			if !ok {
				t.Errorf("%s: no CLI form for a %s", strings.Join(p, "."), ft.Kind())
				continue
			}
			tree, err := toTree(Default())
			if err != nil {
				t.Fatal(err)
			}
			if err := setPath(tree, p, value); err != nil {
				t.Errorf("-c %s.%s=%s: %v", ContextKey, strings.Join(p, "."), value, err)
			}
		}
	}
	walk(configType, nil)
}
