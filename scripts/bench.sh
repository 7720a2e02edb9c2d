#!/usr/bin/env bash
# Measures the project's speed the same way every time and prints a Markdown
# report (README's Speed section quotes it). Sections, in order (BENCH picks
# some, comma-separated; default all):
#   breakdown  where the time of a warm `cdk synth -q` goes: the app's own
#              phase timings (HYBRID_LLM_TIMINGS=1, internal/timing), the CLI
#              alone, and the parts found by switching one thing off
#              (CDK_VALIDATION=false, which skips aws-cdk-lib's validation and
#              cdk-nag; -c hybridLlm.cdkNag.enabled=false, cdk-nag alone);
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
  # synth LABEL [ENV=VALUE...] [-- CDK ARGS...]: one timed `cdk synth -q`;
  # appends "phase seconds" lines to $work/LABEL: "wall", the app's phase
  # timings (HYBRID_LLM_TIMINGS) and aws-cdk-lib's own counters ("cdk
  # phase:Load" etc., written because the slow-synth threshold is 0).
  synth() {
    local label=$1 s e; shift
    local envs=() args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift && args=("$@")
    rm -f "$work/out/performance-counters.json"
    s=$(now)
    env HYBRID_LLM_TIMINGS=1 "${envs[@]}" npx --no-install cdk synth -q -o "$work/out" -c @aws-cdk/core.slowSynthThreshold=0 "${args[@]}" >/dev/null 2>"$work/err" \
      || { cat "$work/err" >&2; echo "bench: cdk synth failed" >&2; exit 1; }
    e=$(now)
    echo "wall $(elapsed "$s" "$e")" >>"$work/$label"
    sed -n 's/^timing: //p' "$work/err" >>"$work/$label"
    [ -f "$work/out/performance-counters.json" ] &&
      node -e 'const c=require(process.argv[1]).counters; for (const k of ["phase:Load","phase:Construction","phase:Synthesis","validateTemplates"]) if (k in c) console.log("cdk " + k + " " + c[k]/1000)' "$work/out/performance-counters.json" >>"$work/$label"
  }
  # phase LABEL PHASE: the median of PHASE's seconds in LABEL's runs ("nan"
  # if the runs did not report it: an app without HYBRID_LLM_TIMINGS).
  phase() { awk -v p="$2" '{v=$NF; $NF=""; sub(/ $/, ""); if ($0 == p) print v}' "$work/$1" | median; }
  # cli: `cdk synth -q` of an assembly already on disk, so no app runs.
  cli() { local s e; s=$(now); npx --no-install cdk synth -q -a "$work/out" -o "$work/out" >/dev/null 2>&1; e=$(now); { elapsed "$s" "$e"; echo; } >>"$work/cli"; }
  diff_() { awk -v a="$1" -v b="${2:-0}" -v c="${3:-0}" -v d="${4:-0}" 'BEGIN{if (a=="nan"||b=="nan"||c=="nan"||d=="nan") print "nan"; else print a-b-c-d}'; }

  synth warmup; synth warmup CDK_VALIDATION=false; rm -f "$work/warmup"
  for _ in $(seq "$runs"); do
    synth on
    synth off CDK_VALIDATION=false
    synth nonag -- -c hybridLlm.cdkNag.enabled=false
    cli
  done
  bundle=$(awk '{v=$NF; $NF=""; if ($1 == "bundling") print v}' "$work/on" | median)
  build=$(phase on "app build check")
  load=$(phase on "cdk phase:Load") construction=$(phase on "cdk phase:Construction")
  synthesis=$(phase on "cdk phase:Synthesis") validation=$(phase on "cdk validateTemplates")
  synth_nonag=$(phase nonag "cdk phase:Synthesis")
  wall_on=$(phase on wall) wall_off=$(phase off wall)
  nag=$(diff_ "$synthesis" "$synth_nonag")
  row() { if [ "$3" = nan ]; then printf '| %s | %s | n/a |\n' "$1" "$2"; else printf '| %s | %s | %.2f |\n' "$1" "$2" "$3"; fi; }
  echo "## Where a warm \`cdk synth -q\` spends its time (median of $runs runs each)"
  echo
  echo '| Part | Measured as | Seconds |'
  echo '|---|---|---|'
  # The rest: wall time no part below accounts for (an unmeasured build
  # check, as main's `go run .` had, stays in it).
  known() { if [ "$1" = nan ]; then echo 0; else echo "$1"; fi; }
  rest=$(diff_ "$(diff_ "$wall_on" "$(known "$build")")" "$load" "$construction" "$synthesis")
  row "CDK CLI and process starts (the CLI alone, on an assembly on disk: $(median <"$work/cli") s)" "wall − the parts below" "$rest"
  row "Go build check of the app" "scripts/app.sh (HYBRID_LLM_TIMINGS)" "$build"
  row "jsii kernel start and aws-cdk-lib load" "aws-cdk-lib: phase:Load" "$load"
  row "Construct tree through jsii, bundling excluded where measured" "phase:Construction − bundling" "$(diff_ "$construction" "$(known "$bundle")")"
  row "Bundling the sweeper Lambda" "internal/gobundle (HYBRID_LLM_TIMINGS)" "$bundle"
  row "cdk-nag AwsSolutions aspects" "phase:Synthesis: nag on − off (validation on)" "$nag"
  row "Built-in CloudFormation validation" "aws-cdk-lib: validateTemplates" "$validation"
  row "Rest of synthesis: tree.json, templates, assets, assembly" "phase:Synthesis − validation − nag" "$(diff_ "$synthesis" "$validation" "$nag")"
  row "**Total, checks on**" "wall" "$wall_on"
  # shellcheck disable=SC2016 # Markdown backticks, not a command substitution
  row '**Total, `CDK_VALIDATION=false`** (no validation, no cdk-nag)' "wall" "$wall_off"
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
