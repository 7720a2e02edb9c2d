package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Load builds the configuration from CDK context: Default(), then the object
// under ContextKey (cdk.json or "-c hybridLlm={...}"), then every dotted
// override "hybridLlm.<path>" (e.g. "hybridLlm.systemNodeGroup.minSize"),
// then Validate, then derives Karpenter.NodePools. context is the app's whole context (node.GetAllContext).
//
// Unknown keys are errors, as are values of the wrong type; every error
// names the key.
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
			return Config{}, fmt.Errorf("%s: must be an object, got %T", ContextKey, obj)
		}
		if err := mergeInto(tree, m, ContextKey); err != nil {
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
	sort.Strings(keys)
	for _, k := range keys {
		if err := setPath(tree, strings.Split(strings.TrimPrefix(k, prefix), "."), context[k], k); err != nil {
			return Config{}, err
		}
	}

	if err := checkExtraPools(tree); err != nil {
		return Config{}, err
	}
	var cfg Config
	raw, err := json.Marshal(tree)
	if err != nil {
		return Config{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("%s: %w", ContextKey, err)
	}
	return cfg, nil
}

// checkExtraPools checks the keys of each karpenter.extraPools element
// exactly (encoding/json would accept "cpulimit" for "cpuLimit"), so an
// unknown key is reported with its index.
func checkExtraPools(tree map[string]any) error {
	karpenter, _ := tree["karpenter"].(map[string]any)
	pools, _ := karpenter["extraPools"].([]any)
	allowed, err := toTree(ExtraPool{})
	if err != nil {
		return err
	}
	for i, p := range pools {
		path := fmt.Sprintf("%s.karpenter.extraPools[%d]", ContextKey, i)
		m, ok := p.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: must be an object, got %s", path, describe(p))
		}
		for _, k := range sortedKeys(m) {
			if _, known := allowed[k]; !known {
				return fmt.Errorf("%s.%s: unknown field; allowed: %s", path, k, strings.Join(sortedKeys(allowed), ", "))
			}
		}
	}
	return nil
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

// mergeInto copies src over dst key by key. A key dst does not have is an
// unknown field; objects merge recursively; everything else replaces, after a
// type check against the default's JSON type.
func mergeInto(dst, src map[string]any, path string) error {
	for k, v := range src {
		p := path + "." + k
		cur, ok := dst[k]
		if !ok {
			return fmt.Errorf("%s: unknown field; allowed: %s", p, strings.Join(sortedKeys(dst), ", "))
		}
		if curMap, isMap := cur.(map[string]any); isMap {
			vMap, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: must be an object, got %s", p, describe(v))
			}
			if err := mergeInto(curMap, vMap, p); err != nil {
				return err
			}
			continue
		}
		if err := sameKind(cur, v, p); err != nil {
			return err
		}
		dst[k] = v
	}
	return nil
}

// setPath applies one "-c hybridLlm.a.b=value" override. CLI values arrive as
// strings; they are converted to the type of the field they replace.
func setPath(tree map[string]any, path []string, value any, key string) error {
	node := tree
	for i, seg := range path {
		cur, ok := node[seg]
		if !ok {
			return fmt.Errorf("%s: unknown field %q; allowed: %s", key, seg, strings.Join(sortedKeys(node), ", "))
		}
		if i < len(path)-1 {
			next, isMap := cur.(map[string]any)
			if !isMap {
				return fmt.Errorf("%s: %q is not an object", key, strings.Join(path[:i+1], "."))
			}
			node = next
			continue
		}
		converted, err := convert(cur, value, key)
		if err != nil {
			return err
		}
		node[seg] = converted
	}
	return nil
}

// convert turns a context value (a string from the CLI, or already typed
// from cdk.json) into the JSON type of the default it replaces.
func convert(cur, value any, key string) (any, error) {
	s, isString := value.(string)
	if !isString {
		return value, sameKind(cur, value, key)
	}
	switch cur.(type) {
	case string:
		return s, nil
	case float64:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a whole number", key, s)
		}
		return float64(n), nil
	case bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not true or false", key, s)
		}
		return b, nil
	case []any:
		// A JSON array, or a comma-separated list of strings.
		if strings.HasPrefix(strings.TrimSpace(s), "[") {
			var list []any
			if err := json.Unmarshal([]byte(s), &list); err != nil {
				return nil, fmt.Errorf("%s: %q is not a JSON array: %v", key, s, err)
			}
			return list, nil
		}
		var list []any
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		if list == nil {
			list = []any{}
		}
		return list, nil
	case map[string]any:
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("%s: %q is not a JSON object: %v", key, s, err)
		}
		merged := cur.(map[string]any)
		return merged, mergeInto(merged, m, key)
	}
	return nil, fmt.Errorf("%s: cannot be set from the command line", key)
}

// sameKind reports whether v has the JSON type of the default cur.
func sameKind(cur, v any, key string) error {
	ok := false
	switch cur.(type) {
	case string:
		_, ok = v.(string)
	case float64:
		var f float64
		f, ok = v.(float64)
		if ok && f != float64(int(f)) {
			return fmt.Errorf("%s: %v is not a whole number", key, f)
		}
	case bool:
		_, ok = v.(bool)
	case []any:
		_, ok = v.([]any)
	case map[string]any:
		_, ok = v.(map[string]any)
	case nil:
		ok = true
	}
	if !ok {
		return fmt.Errorf("%s: must be %s, got %s", key, describe(cur), describe(v))
	}
	return nil
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

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
