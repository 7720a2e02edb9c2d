package platform

import "regexp"

// regionRE is the shape of an AWS region code: two letters, one or more
// words, a number (us-west-2, us-gov-east-1, us-isob-east-1, ap-southeast-7).
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// IsRegion reports whether s has the shape of an AWS region code. It does not
// check that the region exists.
func IsRegion(s string) bool { return regionRE.MatchString(s) }
