package cfntemplate

import (
	"reflect"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	tpl := map[string]any{
		"Resources": map[string]any{
			"CDKMetadata": map[string]any{"Type": "AWS::CDK::Metadata"},
			"Fn":          map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{"S3Key": hash + ".zip"}},
		},
		"Conditions": map[string]any{"CDKMetadataAvailable": map[string]any{}},
	}
	got, err := Normalize(tpl)
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, bad := range []string{hash, "CDKMetadata", "Conditions"} {
		if strings.Contains(s, bad) {
			t.Errorf("normalized template still contains %q:\n%s", bad, s)
		}
	}
	if !strings.Contains(s, `"S3Key": "<asset-hash>.zip"`) || !strings.Contains(s, "AWS::Lambda::Function") || !strings.HasSuffix(s, "}\n") {
		t.Errorf("normalized template lost what it must keep:\n%s", s)
	}
}

func TestDiff(t *testing.T) {
	res := func(typ string, props map[string]any) map[string]any {
		return map[string]any{"Type": typ, "Properties": props}
	}
	tpl := func(r map[string]any) map[string]any { return map[string]any{"Resources": r} }
	queue := res("AWS::SQS::Queue", map[string]any{"MessageRetentionPeriod": 300.0})
	role := res("AWS::IAM::Role", nil)
	tests := []struct {
		name     string
		old, new map[string]any
		want     []string
	}{
		{"no change", tpl(map[string]any{"Q": queue}), tpl(map[string]any{"Q": queue}), nil},
		{"a property changes", tpl(map[string]any{"Q": queue}),
			tpl(map[string]any{"Q": res("AWS::SQS::Queue", map[string]any{"MessageRetentionPeriod": 60.0})}),
			[]string{"modified AWS::SQS::Queue Q: [Properties]"}},
		{"a logical id changes: replaced", tpl(map[string]any{"Q1": queue}), tpl(map[string]any{"Q2": queue}),
			[]string{"replaced AWS::SQS::Queue Q1 -> Q2"}},
		{"a type changes under one id: replaced", tpl(map[string]any{"X": queue}), tpl(map[string]any{"X": role}),
			[]string{"replaced AWS::IAM::Role X (type changed)"}},
		{"removed and added of different types", tpl(map[string]any{"Q": queue}), tpl(map[string]any{"R": role}),
			[]string{"removed AWS::SQS::Queue Q", "added AWS::IAM::Role R"}},
		{"a new stack: everything added", map[string]any{}, tpl(map[string]any{"Q": queue}), []string{"added AWS::SQS::Queue Q"}},
		{"outputs are not resources", map[string]any{"Resources": map[string]any{"Q": queue}, "Outputs": map[string]any{"O": 1.0}},
			tpl(map[string]any{"Q": queue}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range Diff(tt.old, tt.new) {
				got = append(got, c.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}
