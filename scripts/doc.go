// Package scripts holds the project's shell scripts (the CDK app command
// app.sh, bench.sh, fresh-clone.sh, diff-offline.sh); its tests run them.
package scripts
