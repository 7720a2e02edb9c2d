// Package modroot finds this repository's root: the directory whose go.mod
// declares the module. Assets that live in the repository (the sweeper's Go
// sources, the kubectl layer under node_modules) are located from it, so
// synthesis works from the repository root (cdk runs `go run .`) and from a
// package directory (`go test` runs there).
package modroot

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ModulePath is this repository's Go module.
const ModulePath = "github.com/hybrid-llm/platform"

// Dir returns the directory of this module's go.mod: found from the working
// directory upwards, else from this source file's location. It panics when
// neither lies inside the repository.
func Dir() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if isModuleRoot(d) {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	panic(fmt.Sprintf("modroot: no go.mod declaring module %s above %q: run cdk or go test inside the repository", ModulePath, starts))
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == ModulePath {
			return true
		}
	}
	return false
}
