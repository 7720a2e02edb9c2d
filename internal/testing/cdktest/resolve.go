package cdktest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Resolver renders the CloudFormation intrinsics of a template value as
// strings, so a test reads a value the way CloudFormation will deliver it:
// a Helm chart's Values or a manifest joined from literal JSON and tokens
// becomes one JSON string it can decode. The zero value renders each
// reference as a placeholder:
//
//	{"Ref": X}                                     -> "${X}"
//	{"Fn::GetAtt": [X, A]}                         -> "${X.A}"
//	{"Fn::ImportValue": N}                         -> "${import:N}"
//	{"Fn::GetStackOutput": {StackName S, OutputName O}} -> "${S.O}"
//	{"Fn::Join": [sep, parts]}                     -> the parts joined
//	{"Fn::Split": [sep, s]}                        -> the list, when s is literal; else "${Fn::Split[sep]:s}"
//	{"Fn::Select": [i, list]}                      -> the element, when list is one; else "${Fn::Select[i]:list}"
//
// and any other intrinsic as "${Fn::Name}". So the OIDC issuer of an
// imported provider ARN reads
// "${Fn::Select[1]:${Fn::Split[:oidc-provider/]:${import:<export>}}}".
// Placeholders hold no quote, so a resolved JSON string stays valid JSON.
type Resolver struct {
	// Value, when set, maps each placeholder above to the string it stands
	// for (e.g. "${AWS::Partition}" to "aws"). Default: the placeholder.
	Value func(placeholder string) string
}

// Resolve is Resolver{}.Resolve.
func Resolve(v any) any { return Resolver{}.Resolve(v) }

// Resolve returns v (plain JSON values) with every intrinsic rendered.
func (r Resolver) Resolve(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = r.Resolve(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = r.Resolve(e)
		}
		return out
	}
	return v
}

// intrinsic renders {fn: arg}.
func (r Resolver) intrinsic(fn string, arg any) any {
	switch fn {
	case "Ref":
		return r.value(fmt.Sprintf("${%v}", arg))
	case "Fn::GetAtt":
		if ga, ok := arg.([]any); ok && len(ga) == 2 {
			return r.value(fmt.Sprintf("${%v.%v}", ga[0], ga[1]))
		}
	case "Fn::ImportValue":
		if name, ok := r.Resolve(arg).(string); ok {
			return r.value("${import:" + name + "}")
		}
	case "Fn::GetStackOutput":
		if o, ok := arg.(map[string]any); ok {
			return r.value(fmt.Sprintf("${%v.%v}", o["StackName"], o["OutputName"]))
		}
	case "Fn::Join":
		if j, ok := arg.([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := r.Resolve(j[1]).([]any)
			s := make([]string, len(parts))
			for i, p := range parts {
				s[i] = fmt.Sprint(p)
			}
			return strings.Join(s, sep)
		}
	case "Fn::Split":
		if sp, ok := arg.([]any); ok && len(sp) == 2 {
			sep, _ := sp[0].(string)
			s := fmt.Sprint(r.Resolve(sp[1]))
			if strings.Contains(s, "${") {
				return r.value(fmt.Sprintf("${Fn::Split[%s]:%s}", sep, s))
			}
			var out []any
			for _, p := range strings.Split(s, sep) {
				out = append(out, p)
			}
			return out
		}
	case "Fn::Select":
		if sel, ok := arg.([]any); ok && len(sel) == 2 {
			i, _ := sel[0].(float64)
			if n, ok := sel[0].(int); ok {
				i = float64(n)
			}
			switch list := r.Resolve(sel[1]).(type) {
			case []any:
				if int(i) >= 0 && int(i) < len(list) {
					return list[int(i)]
				}
			case string:
				return r.value(fmt.Sprintf("${Fn::Select[%d]:%s}", int(i), list))
			}
		}
	}
	return r.value("${" + fn + "}")
}

func (r Resolver) value(placeholder string) string {
	if r.Value != nil {
		return r.Value(placeholder)
	}
	return placeholder
}

// Props returns a template resource's Properties (nil if it has none).
func Props(resource map[string]any) map[string]any {
	p, _ := resource["Properties"].(map[string]any)
	return p
}

// DecodeJSON is Resolver{}.DecodeJSON.
func DecodeJSON(t *testing.T, v any, out any) {
	t.Helper()
	Resolver{}.DecodeJSON(t, v, out)
}

// DecodeJSON resolves v (a JSON string, or an Fn::Join that builds one, such
// as a Helm chart's Values or a manifest) and decodes the result into out,
// failing the test if it is not JSON.
func (r Resolver) DecodeJSON(t *testing.T, v any, out any) {
	t.Helper()
	s, ok := r.Resolve(v).(string)
	if !ok {
		t.Fatalf("not a JSON string once resolved: %v", v)
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		t.Fatalf("decoding %.200s: %v", s, err)
	}
}
