package cdktest

import (
	"reflect"
	"testing"
)

func TestStatements(t *testing.T) {
	partition := map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":s3:::b"}}}
	imported := map[string]any{"Fn::ImportValue": "Cluster:Name"}
	statement := map[string]any{
		"Action":    []any{"s3:PutObject", "s3:GetObject"},
		"Resource":  partition,
		"Condition": map[string]any{"StringEquals": map[string]any{"k": []any{"b", "a"}}},
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Ref and Fn::Join flattened", Statements{}.Flatten(partition), "arn:${AWS::Partition}:s3:::b"},
		{"Fn::GetAtt flattened", Statements{}.Flatten(map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}), "${Role.Arn}"},
		{"Fn::ImportValue named by its export by default", Statements{}.Flatten(imported), "${import:Cluster:Name}"},
		{"Fn::ImportValue named when asked", Statements{ImportValue: "${Name}"}.Flatten(imported), "${Name}"},
		{"condition values keep their order by default", Statements{}.Canonical(t, []any{statement}),
			[]string{`{"Action":["s3:GetObject","s3:PutObject"],"Condition":{"StringEquals":{"k":["b","a"]}},"Resource":["arn:${AWS::Partition}:s3:::b"]}`}},
		{"condition values sorted when asked", Statements{SortConditionValues: true}.Canonical(t, []any{statement}),
			[]string{`{"Action":["s3:GetObject","s3:PutObject"],"Condition":{"StringEquals":{"k":["a","b"]}},"Resource":["arn:${AWS::Partition}:s3:::b"]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got  %v\nwant %v", tt.got, tt.want)
			}
		})
	}
}
