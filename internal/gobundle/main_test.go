package gobundle

import (
	"testing"

	"github.com/hybrid-llm/platform/internal/testing/cdktest"
)

// TestMain stops the jsii kernel after the tests, so its unpacked runtime is
// removed (cdktest.Main): without it a run leaves a jsii-runtime.* directory
// in TMPDIR (measured), though no test here synthesizes anything.
func TestMain(m *testing.M) { cdktest.Main(m) }
