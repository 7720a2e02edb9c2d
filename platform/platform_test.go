package platform

import "testing"

func TestIsRegion(t *testing.T) {
	tests := []struct {
		region string
		want   bool
	}{
		{"us-west-2", true},
		{"us-gov-east-1", true},
		{"us-isob-east-1", true},
		{"ap-southeast-7", true},
		{"cn-northwest-1", true},
		{"us-west2", false},
		{"US-WEST-2", false},
		{"us-west-", false},
		{"west-2", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsRegion(tt.region); got != tt.want {
			t.Errorf("IsRegion(%q) = %v, want %v", tt.region, got, tt.want)
		}
	}
}

func TestValidateEKSClusterName(t *testing.T) {
	for name, ok := range map[string]bool{
		"hybrid-llm": true, "Hybrid_LLM": true, "a": true,
		"": false, "-x": false, "my cluster": false, string(make([]byte, 101)): false,
	} {
		if err := ValidateEKSClusterName(name); (err == nil) != ok {
			t.Errorf("ValidateEKSClusterName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
