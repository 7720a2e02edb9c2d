package main

import (
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

func TestNetworkSubnets(t *testing.T) {
	tpl := defaults.templates[networkStackID]
	subnets := cdktest.Resources(t, tpl, "AWS::EC2::Subnet")
	azs := defaults.cfg.Network.AvailabilityZones

	var public, private []map[string]any
	for _, s := range subnets {
		if cdktest.Props(s)["MapPublicIpOnLaunch"] == true {
			public = append(public, s)
		} else {
			private = append(private, s)
		}
	}
	tests := []struct {
		name     string
		subnets  []map[string]any
		wantTags map[string]string
		notTags  []string
	}{
		{"public subnets are tagged for internet-facing load balancers", public,
			map[string]string{"kubernetes.io/role/elb": "1"},
			[]string{"kubernetes.io/role/internal-elb", "karpenter.sh/discovery"}},
		{"private subnets are tagged for internal load balancers and Karpenter discovery", private,
			map[string]string{"kubernetes.io/role/internal-elb": "1", "karpenter.sh/discovery": defaults.cfg.ClusterName},
			[]string{"kubernetes.io/role/elb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.subnets) != len(azs) {
				t.Fatalf("got %d subnets, want one per AZ (%d)", len(tt.subnets), len(azs))
			}
			var gotAZs []string
			for _, s := range tt.subnets {
				tags := tagsOf(s)
				for k, v := range tt.wantTags {
					if tags[k] != v {
						t.Errorf("subnet tag %s = %v, want %q", k, tags[k], v)
					}
				}
				for _, k := range tt.notTags {
					if _, ok := tags[k]; ok {
						t.Errorf("subnet has tag %s, which belongs on the other subnet kind", k)
					}
				}
				gotAZs = append(gotAZs, cdktest.Props(s)["AvailabilityZone"].(string))
			}
			for _, az := range azs {
				if !slices.Contains(gotAZs, az) {
					t.Errorf("no subnet in %s (got %v)", az, gotAZs)
				}
			}
		})
	}
}

func TestNetworkNatGateways(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
		want      int
	}{
		{"default: one per AZ", nil, 3},
		{"dev: one", map[string]any{"hybridLlm.network.natGateways": "1"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaults
			if tt.overrides != nil {
				s = mustSynthesize(t, tt.overrides)
			}
			tpl := s.templates[networkStackID]
			cdktest.Check(t, "NAT gateways", func() { tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(tt.want)) })
			// Every private subnet still routes 0.0.0.0/0 through a NAT gateway.
			nat := 0
			for _, r := range cdktest.Resources(t, tpl, "AWS::EC2::Route") {
				if _, ok := cdktest.Props(r)["NatGatewayId"]; ok {
					nat++
				}
			}
			if nat != len(s.cfg.Network.AvailabilityZones) {
				t.Errorf("%d private routes through NAT, want %d", nat, len(s.cfg.Network.AvailabilityZones))
			}
		})
	}
}

func TestNetworkFlowLogsAndS3Endpoint(t *testing.T) {
	tpl := defaults.templates[networkStackID]
	cdktest.Check(t, "flow log captures all traffic to CloudWatch Logs", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), &map[string]any{
			"ResourceType":       "VPC",
			"TrafficType":        "ALL",
			"LogDestinationType": "cloud-watch-logs",
		})
	})
	cdktest.Check(t, "flow log group keeps the configured retention", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), &map[string]any{
			"RetentionInDays": defaults.cfg.Network.FlowLogRetentionDays,
		})
	})
	endpoints := cdktest.Resources(t, tpl, "AWS::EC2::VPCEndpoint")
	if len(endpoints) != 1 {
		t.Fatalf("%d VPC endpoints, want 1 (S3 gateway)", len(endpoints))
	}
	for _, e := range endpoints {
		p := cdktest.Props(e)
		if p["VpcEndpointType"] != "Gateway" || cdktest.Resolve(p["ServiceName"]) != "com.amazonaws.${AWS::Region}.s3" {
			t.Errorf("endpoint = %v, want an S3 gateway endpoint", p)
		}
		if rts, _ := p["RouteTableIds"].([]any); len(rts) != 2*len(defaults.cfg.Network.AvailabilityZones) {
			t.Errorf("S3 endpoint is on %d route tables, want all %d", len(rts), 2*len(defaults.cfg.Network.AvailabilityZones))
		}
	}
	cdktest.Check(t, "VPC CIDR", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::VPC"), &map[string]any{"CidrBlock": defaults.cfg.Network.VpcCidr})
	})
	cdktest.Check(t, "default security group locked down", func() {
		tpl.ResourceCountIs(jsii.String("Custom::VpcRestrictDefaultSG"), jsii.Number(1))
	})
	_ = assertions.Match_AnyValue
}
