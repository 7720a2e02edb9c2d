package cdktest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// MinNodeMajor is the oldest Node.js major version jsii supports.
const MinNodeMajor = 22

// CheckNode reports an error when the Node.js jsii runs on (JSII_NODE, or
// "node" on PATH) is older than MinNodeMajor. jsii starts its kernel while
// the binding packages initialize, before any test code runs, so tests cannot
// choose the Node.js themselves: `npm test` puts the pinned one
// (node_modules/.bin) first on PATH. On Node 20 the root package's run took
// about 9 minutes to exit instead of 12 s.
func CheckNode() error {
	node := os.Getenv("JSII_NODE")
	if node == "" {
		node = "node"
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return fmt.Errorf("running %s --version: %w", node, err)
	}
	version := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil {
		return fmt.Errorf("cannot read the Node.js version %q of %s", version, node)
	}
	if major < MinNodeMajor {
		return fmt.Errorf("jsii runs on Node.js %s (%s), which it no longer supports (need %d or newer): run the tests with `npm test` or `npm exec -c 'go test ...'`, which use the pinned Node.js from node_modules/.bin (after `npm ci`)", version, node, MinNodeMajor)
	}
	return nil
}
