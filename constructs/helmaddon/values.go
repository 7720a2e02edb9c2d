package helmaddon

import "reflect"

// MergeValues returns base with override deep-merged on top, the way Helm
// layers values files: where both sides hold a map the maps are merged key by
// key, recursively; anything else in override (scalars, lists, nil) replaces
// the base value. A nil override value is kept as JSON null, which Helm
// treats as "delete this key from the chart's defaults".
//
// Neither input is modified and the result shares no map or slice with them.
// Maps with string keys of any type (map[string]string, ...) are copied as
// map[string]any and slices as []any, which is also what jsii serializes.
func MergeValues(base, override map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(override))
	for k, v := range base {
		out[k] = deepCopy(v)
	}
	for k, v := range override {
		om, overrideIsMap := asMap(v)
		bm, baseIsMap := asMap(out[k])
		if overrideIsMap && baseIsMap {
			out[k] = MergeValues(bm, om)
			continue
		}
		out[k] = deepCopy(v)
	}
	return out
}

// asMap returns v as a map[string]any (without copying when it already is
// one) if v is a non-nil map with string keys.
func asMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, m != nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.IsNil() || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	m := make(map[string]any, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		m[iter.Key().String()] = iter.Value().Interface()
	}
	return m, true
}

// deepCopy copies maps with string keys and slices (other than []byte)
// recursively; other values are returned as they are.
func deepCopy(v any) any {
	if m, ok := asMap(v); ok {
		c := make(map[string]any, len(m))
		for k, e := range m {
			c[k] = deepCopy(e)
		}
		return c
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && !rv.IsNil() && rv.Type().Elem().Kind() != reflect.Uint8 {
		c := make([]any, rv.Len())
		for i := range c {
			c[i] = deepCopy(rv.Index(i).Interface())
		}
		return c
	}
	return v
}
