// Package stacks holds the four CloudFormation stacks of hybrid-llm-platform.
// Each stack only composes constructs; every value comes from config.Config
// through its props, and stacks pass constructs (not ARNs) to each other.
package stacks
