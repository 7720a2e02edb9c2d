#!/usr/bin/env bash
# Measures the project's speed the same way every time and prints a Markdown
# report (README's Speed section quotes it). Sections, in order (BENCH picks
# some, comma-separated; default all):
#   breakdown  where the time of a warm `cdk synth -q` goes: the app's own
#              phase timings (HYBRID_LLM_TIMINGS=1, internal/timing), the CLI
#              alone, and the parts found by switching one thing off
#              (CDK_VALIDATION=false; -c hybridLlm.cdkNag.enabled=false);
#              median of RUNS each;
#   ab         `cdk synth -q` of this app (A) against the TypeScript reference
#              of the same design (B, ../shared/bench), interleaved, median of
#              RUNS each, with aws-cdk-lib's built-in template validation on in
#              both and off in both (CDK_VALIDATION=false: like with like);
#   test       the test suite's wall time, `npm test -- -count=1`, TEST_RUNS
#              times (a failed run is reported, not hidden);
#   go         one synthesis inside the test process (npm run bench:synth).
#
#   npm run bench                       # RUNS=5, TEST_RUNS=3
#   RUNS=3 BENCH=breakdown,ab npm run bench
#
# Needs `npm ci` done and ../shared/bench beside the project. Absolute times
# vary between machines and with the load of a shared host (the header prints
# the load average): compare figures taken in one run, and quote A/B.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5} test_runs=${TEST_RUNS:-3} sections=",${BENCH:-breakdown,ab,test,go},"
ab=${SHARED:-../shared}/bench/synth-ab.sh   # SHARED: where the shared/ directory is, if not beside the project
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN{printf "%.3f", e-s}'; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
want() { [[ $sections == *",$1,"* ]]; }

echo "# Speed, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo

if want breakdown; then
  # synth LABEL [ENV=VALUE...] [-- CDK ARGS...]: one timed `cdk synth -q` with
  # the app's phase timings; appends "phase seconds" lines to $work/LABEL.
  synth() {
    local label=$1 s e; shift
    local envs=() args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift && args=("$@")
    s=$(now)
    env HYBRID_LLM_TIMINGS=1 "${envs[@]}" npx --no-install cdk synth -q -o "$work/out" "${args[@]}" >/dev/null 2>"$work/err" \
      || { cat "$work/err" >&2; echo "bench: cdk synth failed" >&2; exit 1; }
    e=$(now)
    echo "wall $(elapsed "$s" "$e")" >>"$work/$label"
    sed -n 's/^timing: //p' "$work/err" >>"$work/$label"
  }
  # phase LABEL PHASE: the median of PHASE's seconds in LABEL's runs.
  phase() { awk -v p="$2" '{v=$NF; $NF=""; sub(/ $/, ""); if ($0 == p) print v}' "$work/$1" | median; }
  # cli: `cdk synth -q` of an assembly already on disk, so no app runs.
  cli() { local s e; s=$(now); npx --no-install cdk synth -q -a "$work/out" -o "$work/out" >/dev/null 2>&1; e=$(now); elapsed "$s" "$e" >>"$work/cli"; echo >>"$work/cli"; }

  synth warmup; synth warmup CDK_VALIDATION=false; rm -f "$work/warmup"
  for _ in $(seq "$runs"); do
    synth on
    synth off CDK_VALIDATION=false
    synth nonag CDK_VALIDATION=false -- -c hybridLlm.cdkNag.enabled=false
    cli
  done
  bundle=$(awk '{v=$NF; $NF=""; if ($1 == "bundling") print v}' "$work/on" | median)
  tree=$(phase on "construct tree (bundling included)")
  synth_on=$(phase on "synth: aspects, validation, assembly")
  synth_off=$(phase off "synth: aspects, validation, assembly")
  synth_nonag=$(phase nonag "synth: aspects, validation, assembly")
  build=$(phase on "app build (go build, up to date)")
  app=$(phase on app)
  wall_on=$(phase on wall) wall_off=$(phase off wall)
  cli_alone=$(grep . "$work/cli" | median)
  row() { printf '| %s | %s | %.2f |\n' "$1" "$2" "$3"; }
  echo "## Where a warm \`cdk synth -q\` spends its time (median of $runs runs each)"
  echo
  echo '| Part | Measured as | Seconds |'
  echo '|---|---|---|'
  row "CDK CLI: start, run the app, read the assembly" "wall − app build − app (CLI alone, on an assembly on disk: $(printf %.2f "$cli_alone") s)" "$(awk -v w="$wall_on" -v b="$build" -v a="$app" 'BEGIN{print w-b-a}')"
  row "Go build check of the app (up to date: no link)" "scripts/app.sh" "$build"
  row "Go process, jsii kernel start, aws-cdk-lib load" "app: to the first App" "$(phase on "jsii kernel start and aws-cdk-lib load")"
  row "Construct tree through jsii (bundling excluded)" "app: newApp − bundling" "$(awk -v t="$tree" -v b="$bundle" 'BEGIN{print t-b}')"
  row "Bundling the sweeper Lambda (Go build cache: no link)" "internal/gobundle" "$bundle"
  row "cdk-nag AwsSolutions aspects" "synth phase, validation off: nag on − off" "$(awk -v a="$synth_off" -v b="$synth_nonag" 'BEGIN{print a-b}')"
  row "Built-in CloudFormation validation" "synth phase: validation on − off" "$(awk -v a="$synth_on" -v b="$synth_off" 'BEGIN{print a-b}')"
  row "Synthesis: tree.json, templates, asset staging, writing" "synth phase, no nag, no validation" "$synth_nonag"
  row "**Total, validation on**" "wall" "$wall_on"
  row "**Total, validation off**" "wall" "$wall_off"
  echo
fi

if want ab; then
  [ -f "$ab" ] || { echo "bench: $ab not found (../shared beside the project, or set SHARED)" >&2; exit 2; }
  for setting in on off; do
    echo "## cdk synth -q, A/B, template validation $setting in both ($runs runs each, interleaved)"
    echo '```'
    if [ "$setting" = off ]; then CDK_VALIDATION=false bash "$ab" "$runs"; else bash "$ab" "$runs"; fi
    echo '```'
  done
fi

if want test; then
  echo "## npm test -- -count=1 ($test_runs runs)"
  echo '```'
  times=()
  for _ in $(seq "$test_runs"); do
    s=$(now)
    result=""
    npm test --silent -- -count=1 >"$work/test.log" 2>&1 || { result=" (FAILED)"; grep -E '^(--- FAIL|FAIL)' "$work/test.log" >&2 || true; }
    times+=("$(elapsed "$s" "$(now)")$result")
  done
  printf 'wall time: %s s\n' "${times[*]}"
  echo '```'
fi

if want go; then
  echo "## One synthesis in the test process (npm run bench:synth)"
  echo '```'
  npm run --silent bench:synth 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
  echo '```'
fi
