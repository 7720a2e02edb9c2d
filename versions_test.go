package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hybrid-llm/platform/constructs/karpenter"
	"github.com/hybrid-llm/platform/constructs/lbcontroller"
	"github.com/hybrid-llm/platform/internal/testing/chartkeys"
	"github.com/hybrid-llm/platform/platform"
)

// karpenterCRDFiles are the Karpenter CRDs the node pools are validated
// against; each file's header names the upstream tag it was taken from.
var karpenterCRDFiles = []string{"karpenter.sh_nodepools.yaml", "karpenter.k8s.aws_ec2nodeclasses.yaml"}

// karpenterReference reports what upstream reference data is missing for a
// Karpenter version: controller IAM policy, chart values keys, CRDs.
func karpenterReference(version string) error {
	var errs []error
	if _, err := karpenter.ReferenceActions(version); err != nil {
		errs = append(errs, fmt.Errorf("controller IAM policy: %w", err))
	}
	for _, chart := range []string{karpenter.ChartName, karpenter.CRDChartName} {
		if _, err := chartkeys.Keys(chart, version); err != nil {
			errs = append(errs, fmt.Errorf("%s values keys: %w", chart, err))
		}
	}
	for _, f := range karpenterCRDFiles {
		raw, err := os.ReadFile(filepath.Join("constructs", "karpenterpools", "testdata", "crds", f))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		header, _, _ := strings.Cut(string(raw), "\n---")
		if !strings.Contains(header, "tag v"+version+" ") {
			errs = append(errs, fmt.Errorf("CRD %s is not from tag v%s (header: %q)", f, version, header))
		}
	}
	return errors.Join(errs...)
}

// loadBalancerControllerReference reports what is missing for a chart version.
func loadBalancerControllerReference(chartVersion string) error {
	var errs []error
	if err := lbcontroller.Check(chartVersion); err != nil {
		errs = append(errs, fmt.Errorf("controller IAM policy and CRDs: %w", err))
	}
	if _, err := chartkeys.Keys(lbcontroller.ChartName, chartVersion); err != nil {
		errs = append(errs, fmt.Errorf("values keys: %w", err))
	}
	return errors.Join(errs...)
}

// nvidiaReference reports what is missing for a device plugin chart version.
func nvidiaReference(chartVersion string) error {
	_, err := chartkeys.Keys("nvidia-device-plugin", chartVersion)
	return err
}

// TestEverySupportedVersionHasReferenceData: a version may be pinned in
// platform/versions.go only with its upstream reference data.
// Bumping a version without adding that data fails here, naming what is missing.
func TestEverySupportedVersionHasReferenceData(t *testing.T) {
	tests := []struct {
		name      string
		versions  []string
		reference func(string) error
	}{
		{"karpenter", []string{platform.Karpenter.Chart}, karpenterReference},
		{"aws-load-balancer-controller", []string{platform.LoadBalancerController.Chart}, loadBalancerControllerReference},
		{"nvidia-device-plugin", []string{platform.NvidiaDevicePlugin.Chart}, nvidiaReference},
	}
	for _, tt := range tests {
		for _, v := range tt.versions {
			t.Run(tt.name+" "+v, func(t *testing.T) {
				if err := tt.reference(v); err != nil {
					t.Errorf("%s %s is listed as supported but lacks reference data:\n%v", tt.name, v, err)
				}
			})
		}
	}
}

// TestVersionBumpWithoutReferenceFailsLoudly proves the check above bites:
// a version nobody has added reference data for is reported, piece by piece.
func TestVersionBumpWithoutReferenceFailsLoudly(t *testing.T) {
	tests := []struct {
		name      string
		reference func(string) error
		version   string
		want      []string
	}{
		{"karpenter 1.15.0", karpenterReference, "1.15.0",
			[]string{"controller IAM policy", "karpenter values keys", "karpenter-crd values keys", "CRD karpenter.sh_nodepools.yaml is not from tag v1.15.0", "CRD karpenter.k8s.aws_ec2nodeclasses.yaml is not from tag v1.15.0"}},
		{"aws-load-balancer-controller 3.6.0", loadBalancerControllerReference, "3.6.0",
			[]string{`lbcontroller: chart version "3.6.0" is not supported; supported: 3.5.0`, "values keys"}},
		{"nvidia-device-plugin 0.21.0", nvidiaReference, "0.21.0", []string{"0.21.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.reference(tt.version)
			if err == nil {
				t.Fatal("no error for a version without reference data")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}
