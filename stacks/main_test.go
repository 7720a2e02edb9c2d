package stacks

import (
	"testing"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// TestMain stops the jsii kernel that importing the CDK bindings started, so
// its unpacked runtime is removed (cdktest.Main).
func TestMain(m *testing.M) { cdktest.Main(m) }
