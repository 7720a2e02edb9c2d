// Package timing reports how long the phases of a synthesis take, when
// asked to: with HYBRID_LLM_TIMINGS=1 in the environment the app (and its
// local bundler) print one line per phase to stderr, "timing: <phase>
// <seconds>". scripts/bench.sh reads them for the breakdown in README's
// Speed section. Without the variable nothing is printed.
package timing

import (
	"fmt"
	"os"
	"time"
)

// Env is the environment variable that turns the report on ("1").
const Env = "HYBRID_LLM_TIMINGS"

// Prefix starts every line the report prints.
const Prefix = "timing: "

// Enabled reports whether Env is "1".
func Enabled() bool { return os.Getenv(Env) == "1" }

// Since prints the time since start as the duration of phase, if Enabled.
func Since(phase string, start time.Time) {
	if Enabled() {
		fmt.Fprintf(os.Stderr, "%s%s %.3f\n", Prefix, phase, time.Since(start).Seconds())
	}
}
