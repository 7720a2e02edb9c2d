package cdktest

import (
	"reflect"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	join := func(parts ...any) map[string]any { return map[string]any{"Fn::Join": []any{"", parts}} }
	oidc := map[string]any{"Fn::Select": []any{1, map[string]any{"Fn::Split": []any{":oidc-provider/", map[string]any{"Fn::ImportValue": "C:Arn"}}}}}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"Ref", map[string]any{"Ref": "AWS::Partition"}, "${AWS::Partition}"},
		{"Fn::GetAtt", map[string]any{"Fn::GetAtt": []any{"Queue", "QueueName"}}, "${Queue.QueueName}"},
		{"Fn::ImportValue", map[string]any{"Fn::ImportValue": "C:Name"}, "${import:C:Name}"},
		{"Fn::GetStackOutput", map[string]any{"Fn::GetStackOutput": map[string]any{"StackName": "S", "OutputName": "O", "Region": "r"}}, "${S.O}"},
		{"Fn::Join of JSON and tokens", join(`{"q":"`, map[string]any{"Fn::GetAtt": []any{"Q", "Arn"}}, `"}`), `{"q":"${Q.Arn}"}`},
		{"Fn::Select of a literal Fn::Split", map[string]any{"Fn::Select": []any{1.0, map[string]any{"Fn::Split": []any{"/", "a/b/c"}}}}, "b"},
		{"Fn::Select of an Fn::Split of a token", oidc, "${Fn::Select[1]:${Fn::Split[:oidc-provider/]:${import:C:Arn}}}"},
		{"an unknown intrinsic", map[string]any{"Fn::Base64": "x"}, "${Fn::Base64}"},
		{"nested in maps and lists", map[string]any{"A": []any{map[string]any{"Ref": "X"}}, "B": 2.0}, map[string]any{"A": []any{"${X}"}, "B": 2.0}},
		{"a map with more keys is not an intrinsic", map[string]any{"Ref": "X", "Other": "y"}, map[string]any{"Ref": "X", "Other": "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resolve(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Resolve(%v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
	t.Run("Value maps placeholders", func(t *testing.T) {
		r := Resolver{Value: func(p string) string { return strings.ToUpper(p) }}
		if got := r.Resolve(map[string]any{"Ref": "x"}); got != "${X}" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("DecodeJSON", func(t *testing.T) {
		var got map[string]any
		DecodeJSON(t, join(`{"q":"`, map[string]any{"Ref": "Q"}, `"}`), &got)
		if got["q"] != "${Q}" {
			t.Errorf("got %v", got)
		}
	})
}
