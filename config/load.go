package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Load builds the configuration from CDK context: Default(), then the object
// under ContextKey (cdk.json or "-c hybridLlm={...}"), then every dotted
// override "hybridLlm.<path>" (e.g. "hybridLlm.systemNodeGroup.minSize"),
// then Validate, then derives Karpenter.NodePools. context is the app's whole
// context (node.GetAllContext).
//
// Keys are matched exactly against the JSON names of Config's fields, at
// every depth (objects inside lists included): an unknown key, or a value of
// the wrong type, is an error naming the key as "hybridLlm.<path>", the form
// every load and validation message uses. A value from the command line is
// converted to the type of its field (a number, a boolean, a comma-separated
// or JSON list, a JSON object), so every field can be set from the CLI.
func Load(context map[string]any) (Config, error) {
	cfg, err := load(context)
	if err != nil {
		return Config{}, fmt.Errorf("loading config: %w", err)
	}
	pools, err := cfg.validate()
	if err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	cfg.Karpenter.NodePools = pools
	return cfg, nil
}

// configType is the type the keys are checked against.
var configType = reflect.TypeOf(Config{})

func load(context map[string]any) (Config, error) {
	tree, err := toTree(Default())
	if err != nil {
		return Config{}, err
	}
	if obj, ok := context[ContextKey]; ok {
		if s, isString := obj.(string); isString {
			// "-c hybridLlm={...}" arrives as a string.
			if err := json.Unmarshal([]byte(s), &obj); err != nil {
				return Config{}, fmt.Errorf("%s: not a JSON object: %w", ContextKey, err)
			}
		}
		m, ok := obj.(map[string]any)
		if !ok {
			return Config{}, fmt.Errorf("%s: must be an object, got %s", ContextKey, describe(obj))
		}
		if err := mergeInto(tree, m, ContextKey, configType); err != nil {
			return Config{}, err
		}
	}

	// Apply dotted overrides in a stable order so errors are deterministic.
	prefix := ContextKey + "."
	var keys []string
	for k := range context {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := setPath(tree, strings.Split(strings.TrimPrefix(k, prefix), "."), context[k]); err != nil {
			return Config{}, err
		}
	}

	var cfg Config
	raw, err := json.Marshal(tree)
	if err != nil {
		return Config{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // checkValue has already rejected every unknown key
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("%s: %w", ContextKey, err)
	}
	return cfg, nil
}

// toTree renders v as the generic JSON tree that overrides are applied to.
func toTree(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	return tree, json.Unmarshal(raw, &tree)
}

// jsonFields returns the fields of struct type t by their exact JSON names,
// embedded structs' fields inlined, fields tagged "-" left out.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
		case name != "" && name != "-" && f.IsExported():
			fields[name] = f.Type
		}
	}
	return fields
}

// field returns the type of key in struct type t, or an unknown-field error
// naming path (the key's full "hybridLlm.<path>") and the allowed keys.
func field(t reflect.Type, key, path string) (reflect.Type, error) {
	fields := jsonFields(t)
	ft, ok := fields[key]
	if !ok {
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("%s: unknown field; allowed: %s", path, strings.Join(names, ", "))
	}
	return ft, nil
}

// keyType is the type of the value under key k of an object of type t: a
// struct's field (unknown keys are errors), a map's value type.
func keyType(t reflect.Type, k, path string) (reflect.Type, error) {
	if t.Kind() == reflect.Map {
		return t.Elem(), nil
	}
	return field(t, k, path)
}

// mergeInto copies src over dst key by key, checking each against struct
// type t: objects of struct type merge recursively; everything else replaces,
// after checkValue.
func mergeInto(dst, src map[string]any, path string, t reflect.Type) error {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		v, p := src[k], path+"."+k
		ft, err := field(t, k, p)
		if err != nil {
			return err
		}
		if ft.Kind() == reflect.Struct {
			vMap, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: must be an object, got %s", p, describe(v))
			}
			cur, _ := dst[k].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
				dst[k] = cur
			}
			if err := mergeInto(cur, vMap, p, ft); err != nil {
				return err
			}
			continue
		}
		if err := checkValue(v, ft, p); err != nil {
			return err
		}
		dst[k] = v
	}
	return nil
}

// checkValue is the exact-key walk of one value: v must have the JSON shape
// of type t, and every object key inside it (in lists and maps too) must be
// a field of its struct type.
func checkValue(v any, t reflect.Type, path string) error {
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: must be a string, got %s", path, describe(v))
		}
	case reflect.Int:
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%s: must be a whole number, got %s", path, describe(v))
		}
		if f != float64(int(f)) {
			return fmt.Errorf("%s: %v is not a whole number", path, f)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: must be true or false, got %s", path, describe(v))
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: must be a list, got %s", path, describe(v))
		}
		for i, item := range list {
			if err := checkValue(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map, reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: must be an object, got %s", path, describe(v))
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, err := keyType(t, k, path+"."+k)
			if err != nil {
				return err
			}
			if err := checkValue(m[k], ft, path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

// setPath applies one "-c hybridLlm.a.b=value" override, walking the field
// types from Config down.
func setPath(tree map[string]any, segs []string, value any) error {
	node, t, path := tree, configType, ContextKey
	for i, seg := range segs {
		path += "." + seg
		ft, err := field(t, seg, path)
		if err != nil {
			return err
		}
		if i < len(segs)-1 {
			if ft.Kind() != reflect.Struct {
				return fmt.Errorf("%s.%s: %s is not an object", ContextKey, strings.Join(segs, "."), path)
			}
			next, _ := node[seg].(map[string]any)
			if next == nil {
				next = map[string]any{}
				node[seg] = next
			}
			node, t = next, ft
			continue
		}
		converted, err := convert(value, ft, path)
		if err != nil {
			return err
		}
		if ft.Kind() == reflect.Struct {
			cur, _ := node[seg].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
				node[seg] = cur
			}
			return mergeInto(cur, converted.(map[string]any), path, ft)
		}
		if err := checkValue(converted, ft, path); err != nil {
			return err
		}
		node[seg] = converted
	}
	return nil
}

// convert turns a context value (a string from the CLI, or already typed
// from cdk.json) into the JSON shape of type t.
func convert(value any, t reflect.Type, path string) (any, error) {
	s, isString := value.(string)
	if !isString {
		return value, nil
	}
	switch t.Kind() {
	case reflect.String:
		return s, nil
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a whole number", path, s)
		}
		return float64(n), nil
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not true or false", path, s)
		}
		return b, nil
	case reflect.Slice:
		// A JSON array, or a comma-separated list of strings.
		if strings.HasPrefix(strings.TrimSpace(s), "[") {
			var list []any
			if err := json.Unmarshal([]byte(s), &list); err != nil {
				return nil, fmt.Errorf("%s: %q is not a JSON array: %v", path, s, err)
			}
			return list, nil
		}
		list := []any{}
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		return list, nil
	case reflect.Map, reflect.Struct:
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("%s: %q is not a JSON object: %v", path, s, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s: cannot be set from the command line", path)
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("a string (%q)", v)
	case float64:
		return fmt.Sprintf("a number (%v)", v)
	case bool:
		return fmt.Sprintf("a boolean (%v)", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
