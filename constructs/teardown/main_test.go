package teardown_test

import (
	"testing"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// TestMain stops the jsii kernel after the tests, so its unpacked runtime is
// removed (cdktest.Main).
func TestMain(m *testing.M) { cdktest.Main(m) }
