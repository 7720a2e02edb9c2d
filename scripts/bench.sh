#!/usr/bin/env bash
# Measures the project's speed the same way every time and prints a Markdown
# report (the README's Speed section quotes it):
#   1. `cdk synth -q` of this app (A) against the TypeScript reference of the
#      same design (B, ../shared/bench), interleaved in one run, median of RUNS
#      each: once with aws-cdk-lib's built-in template validation on, once off
#      (CDK_VALIDATION=false in both A and B: like with like);
#   2. the test suite's wall time, `npm test -- -count=1`, TEST_RUNS times;
#   3. the Go benchmark of one synthesis inside the test process.
# Absolute times vary between machines and runs on shared hosts: compare
# figures taken in one run, and quote the ratio A/B.
#
#   scripts/bench.sh             # RUNS=5 synths per side and setting, TEST_RUNS=3
#   RUNS=3 TEST_RUNS=1 scripts/bench.sh
#
# Needs `npm ci` done and ../shared/bench beside the project. Nothing is timed
# inside a test: this script is the only place wall times are taken.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5} test_runs=${TEST_RUNS:-3}
ab=../shared/bench/synth-ab.sh
[ -x "$ab" ] || [ -f "$ab" ] || { echo "bench: $ab not found (../shared beside the project)" >&2; exit 2; }

echo "# Speed, $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo
for setting in on off; do
  echo "## cdk synth -q, template validation $setting ($runs runs each, interleaved)"
  echo '```'
  if [ "$setting" = off ]; then CDK_VALIDATION=false bash "$ab" "$runs"; else bash "$ab" "$runs"; fi
  echo '```'
done

echo "## npm test -- -count=1 ($test_runs runs)"
echo '```'
times=()
for _ in $(seq "$test_runs"); do
  s=$(date +%s.%N)
  npm test --silent -- -count=1 >/tmp/bench-test.$$ 2>&1 || { cat /tmp/bench-test.$$ >&2; rm -f /tmp/bench-test.$$; echo "bench: tests failed" >&2; exit 1; }
  e=$(date +%s.%N)
  times+=("$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.1f", e-s}')")
done
rm -f /tmp/bench-test.$$
printf 'wall time: %s s\n' "${times[*]}"
echo '```'

echo "## one synthesis in the test process (go test -bench Synth)"
echo '```'
npm run --silent bench 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
echo '```'
