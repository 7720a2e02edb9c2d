package sweep

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/hybrid-llm/platform/platform"
)

// describeTagsBatch is the most ARNs DescribeTags accepts in one call.
const describeTagsBatch = 20

// clusterARNs returns those of arns whose elbv2.k8s.aws/cluster tag is the
// cluster. ELBv2 cannot filter by tag server-side, so every load balancer or
// target group of the region is listed and its tags read.
func (p *pass) clusterARNs(arns []string) ([]string, error) {
	var mine []string
	for start := 0; start < len(arns); start += describeTagsBatch {
		batch := arns[start:min(start+describeTagsBatch, len(arns))]
		descs, err := p.describeTags(batch)
		if err != nil {
			return nil, err
		}
		for _, d := range descs {
			for _, t := range d.Tags {
				if aws.ToString(t.Key) == platform.TagELBCluster && aws.ToString(t.Value) == p.cluster() {
					mine = append(mine, aws.ToString(d.ResourceArn))
				}
			}
		}
	}
	return mine, nil
}

// describeTags reads the tags of arns. One ARN that vanished since it was
// listed fails the whole call; then each is read alone and the vanished ones
// are skipped.
func (p *pass) describeTags(arns []string) ([]elbtypes.TagDescription, error) {
	out, err := p.s.cfg.ELB.DescribeTags(p.ctx, &elb.DescribeTagsInput{ResourceArns: arns})
	if err == nil {
		return out.TagDescriptions, nil
	}
	if !isNotFound(err) || len(arns) == 1 {
		return nil, err
	}
	var all []elbtypes.TagDescription
	for _, a := range arns {
		d, err := p.describeTags([]string{a})
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		all = append(all, d...)
	}
	return all, nil
}

// loadBalancers deletes the cluster's load balancers and reports whether this
// pass found none (deletes issued now are confirmed by the next pass).
func (p *pass) loadBalancers() bool {
	var arns []string
	names := map[string]string{}
	pg := elb.NewDescribeLoadBalancersPaginator(p.s.cfg.ELB, &elb.DescribeLoadBalancersInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(p.ctx)
		if err != nil {
			p.listFailed(KindLoadBalancer, err)
			return false
		}
		for _, lb := range out.LoadBalancers {
			a := aws.ToString(lb.LoadBalancerArn)
			arns = append(arns, a)
			names[a] = aws.ToString(lb.LoadBalancerName)
		}
	}
	mine, err := p.clusterARNs(arns)
	if err != nil {
		p.listFailed(KindLoadBalancer, err)
		return false
	}
	for _, a := range mine {
		r := Resource{Kind: KindLoadBalancer, ID: a, Name: names[a]}
		_, err := p.s.cfg.ELB.DeleteLoadBalancer(p.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(a)})
		if err != nil && !isNotFound(err) {
			p.remain(r, "delete failed", err)
			continue
		}
		p.deleted(r)
	}
	return len(mine) == 0
}

// targetGroups deletes the cluster's target groups, or only lists them when
// wait is not empty.
func (p *pass) targetGroups(wait string) {
	var arns []string
	names := map[string]string{}
	pg := elb.NewDescribeTargetGroupsPaginator(p.s.cfg.ELB, &elb.DescribeTargetGroupsInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(p.ctx)
		if err != nil {
			p.listFailed(KindTargetGroup, err)
			return
		}
		for _, tg := range out.TargetGroups {
			a := aws.ToString(tg.TargetGroupArn)
			arns = append(arns, a)
			names[a] = aws.ToString(tg.TargetGroupName)
		}
	}
	mine, err := p.clusterARNs(arns)
	if err != nil {
		p.listFailed(KindTargetGroup, err)
		return
	}
	for _, a := range mine {
		r := Resource{Kind: KindTargetGroup, ID: a, Name: names[a]}
		if wait != "" {
			p.remain(r, wait, nil)
			continue
		}
		_, err := p.s.cfg.ELB.DeleteTargetGroup(p.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(a)})
		if err != nil && !isNotFound(err) {
			// ResourceInUse: a listener or rule of a load balancer outside
			// this sweep still forwards to it.
			p.remain(r, "delete failed", err)
			continue
		}
		p.deleted(r)
	}
}
