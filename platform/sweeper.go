package platform

import (
	"fmt"
	"regexp"
)

// CloudFormation types of the custom resources the Go Lambda in
// lambda/customresources serves (constructs/teardown and constructs/spotrole create
// them).
const (
	// ClusterSweeperType sweeps the controllers' leftovers on the add-ons
	// stack's deletion (internal/sweep Sweeper).
	ClusterSweeperType = "Custom::ClusterSweeper"
	// VPCSweeperType sweeps what blocks the VPC on the network stack's
	// deletion (internal/sweep VPCSweeper).
	VPCSweeperType = "Custom::VpcSweeper"
	// SpotRoleType ensures the account's EC2 Spot service-linked role
	// (internal/spotrole).
	SpotRoleType = "Custom::SpotServiceLinkedRole"
)

// The EC2 Spot service-linked role (AWSServiceRoleForEC2Spot).
const (
	// SpotServiceName is the service principal the role is linked to.
	SpotServiceName = "spot.amazonaws.com"
	// SpotRoleName is the name IAM gives the role.
	SpotRoleName = "AWSServiceRoleForEC2Spot"
	// SpotRolePath is the IAM path of the role.
	SpotRolePath = "/aws-service-role/" + SpotServiceName + "/"
)

// eksClusterNameRE is the EKS cluster name syntax (CreateCluster API
// reference: 1-100 characters, begins with an alphanumeric, then
// alphanumerics, '-' and '_').
var eksClusterNameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)

// ValidateEKSClusterName returns an error unless name is a valid EKS cluster
// name. (The platform's own config accepts a stricter subset.)
func ValidateEKSClusterName(name string) error {
	if !eksClusterNameRE.MatchString(name) {
		return fmt.Errorf("sweep: cluster name %q is not a valid EKS cluster name (1-100 characters: letters, digits, '-' and '_', starting with a letter or digit)", name)
	}
	return nil
}
