package cdktest

import "testing"

// TestMain stops the jsii kernel after the tests (see Main): importing the
// CDK bindings starts it, even when a test never builds an app.
func TestMain(m *testing.M) { Main(m) }
