package lbcontroller

import (
	"strings"
	"testing"
)

// TestCheckVersionBump: mapping a new chart version to a controller version
// without adding that version's IAM policy and CRDs is reported, naming both
// (New panics with this message).
func TestCheckVersionBump(t *testing.T) {
	if err := Check("3.5.0"); err != nil {
		t.Fatalf("Check(3.5.0) = %v, want nil", err)
	}
	appVersionByChart["3.6.0"] = "v3.6.0"
	t.Cleanup(func() { delete(appVersionByChart, "3.6.0") })
	err := Check("3.6.0")
	if err == nil {
		t.Fatal("Check(3.6.0) = nil for a version without IAM policy and CRDs")
	}
	for _, want := range []string{
		`lbcontroller: no IAM policy embedded for controller version "v3.6.0"`,
		`lbcontroller: no CRDs embedded for controller version "v3.6.0" (have: v3.5.0); add the chart's crds/*.yaml at that tag to constructs/lbcontroller/crds/v3.6.0/`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check(3.6.0) error does not contain %q:\n%v", want, err)
		}
	}
}
