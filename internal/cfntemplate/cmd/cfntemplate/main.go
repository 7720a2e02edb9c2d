// Command cfntemplate is what scripts/diff-offline.sh runs on templates:
//
//	cfntemplate normalize FILE...   rewrite each template as the golden files hold it
//	cfntemplate diff OLD NEW        print one line per resource change (cfntemplate.Diff)
//
// A missing or empty OLD file in diff counts as a template with no resources
// (a new stack).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/hybrid-llm/platform/internal/cfntemplate"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cfntemplate:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: cfntemplate normalize FILE... | cfntemplate diff OLD NEW")
	}
	switch args[0] {
	case "normalize":
		for _, f := range args[1:] {
			tpl, err := read(f, false)
			if err != nil {
				return err
			}
			raw, err := cfntemplate.Normalize(tpl)
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if err := os.WriteFile(f, raw, 0o644); err != nil {
				return err
			}
		}
		return nil
	case "diff":
		if len(args) != 3 {
			return fmt.Errorf("usage: cfntemplate diff OLD NEW")
		}
		old, err := read(args[1], true)
		if err != nil {
			return err
		}
		tpl, err := read(args[2], false)
		if err != nil {
			return err
		}
		for _, c := range cfntemplate.Diff(old, tpl) {
			fmt.Println(c)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q (normalize, diff)", args[0])
}

// read decodes a template file; with missingIsEmpty, a missing or empty file
// is a template without resources.
func read(path string, missingIsEmpty bool) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if missingIsEmpty && (os.IsNotExist(err) || (err == nil && len(raw) == 0)) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, err
	}
	var tpl map[string]any
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return nil, fmt.Errorf("%s is not a JSON template: %w", path, err)
	}
	return tpl, nil
}
