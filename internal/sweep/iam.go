package sweep

import (
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// instanceProfiles removes the role from and deletes every instance profile
// under the cluster's Karpenter path, or only lists them when wait is not empty.
func (p *pass) instanceProfiles(wait string) {
	var profiles []iamtypes.InstanceProfile
	prefix := InstanceProfilePath(p.s.cfg.Region, p.cluster())
	pg := iam.NewListInstanceProfilesPaginator(p.s.cfg.IAM, &iam.ListInstanceProfilesInput{
		PathPrefix: aws.String(prefix),
	})
	for pg.HasMorePages() {
		out, err := pg.NextPage(p.ctx)
		if err != nil {
			p.listFailed(KindInstanceProfile, err)
			return
		}
		// Check the path again on our side: the prefix is what makes a
		// profile this cluster's, and an API (or emulator) that ignored it
		// must not widen the sweep.
		for _, ip := range out.InstanceProfiles {
			if strings.HasPrefix(aws.ToString(ip.Path), prefix) {
				profiles = append(profiles, ip)
			}
		}
	}
	sort.Slice(profiles, func(i, j int) bool {
		return aws.ToString(profiles[i].InstanceProfileName) < aws.ToString(profiles[j].InstanceProfileName)
	})
	for _, ip := range profiles {
		name := aws.ToString(ip.InstanceProfileName)
		r := Resource{Kind: KindInstanceProfile, ID: name, Name: aws.ToString(ip.Path) + name}
		if wait != "" {
			p.remain(r, wait, nil)
			continue
		}
		if p.deleteInstanceProfile(r, ip) {
			p.deleted(r)
		}
	}
}

func (p *pass) deleteInstanceProfile(r Resource, ip iamtypes.InstanceProfile) bool {
	for _, role := range ip.Roles {
		_, err := p.s.cfg.IAM.RemoveRoleFromInstanceProfile(p.ctx, &iam.RemoveRoleFromInstanceProfileInput{
			InstanceProfileName: ip.InstanceProfileName,
			RoleName:            role.RoleName,
		})
		if err != nil && !isNotFound(err) {
			p.remain(r, "removing role "+aws.ToString(role.RoleName)+" failed", err)
			return false
		}
		p.s.log.Info("removed role from instance profile", "kind", string(r.Kind), "id", r.ID,
			"role", aws.ToString(role.RoleName))
	}
	_, err := p.s.cfg.IAM.DeleteInstanceProfile(p.ctx, &iam.DeleteInstanceProfileInput{
		InstanceProfileName: ip.InstanceProfileName,
	})
	if err != nil && !isNotFound(err) {
		// DeleteConflict: a role was attached again in between; the next pass
		// sees it and removes it.
		p.remain(r, "delete failed", err)
		return false
	}
	return true
}
