// Package cdktest holds the scaffolding the construct packages' tests share:
// a test app shaped like the platform (an EKS cluster stack and a second
// stack for the constructs under test), helpers that turn jsii assertion
// panics into test errors, and normalization of synthesized IAM statements
// for comparison with upstream reference policies.
//
// It is for tests only: import it from _test.go files, never from a
// construct, stack or the app.
package cdktest
