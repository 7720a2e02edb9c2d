#!/usr/bin/env bash
# Offline `cdk diff`: what the current code does to each stack, compared with
# the committed golden templates (testdata/<Stack>.template.json) or with the
# golden templates of a git ref. Needs no AWS account and makes no AWS call:
# `cdk diff --template` compares with a file (it implies --method=template).
#
#   scripts/diff-offline.sh                       # against testdata/ in the work tree
#   scripts/diff-offline.sh --base origin/main    # against testdata/ of a git ref
#   scripts/diff-offline.sh -- -c hybridLlm.network.natGateways=1   # preview a config change
#
# Options:
#   --base REF        take the golden templates from git ref REF
#   --fail            exit 1 if any stack differs
#   --markdown FILE   append a markdown summary and the diffs to FILE
#                     (CI: --markdown "$GITHUB_STEP_SUMMARY")
#   -- ARGS           pass ARGS to `cdk synth` (e.g. -c key=value)
#
# The synthesized templates are normalized exactly like the golden files
# (internal/cfntemplate: asset hashes become <asset-hash>), so a changed
# Lambda bundle or nested-stack template does not show here (the live diff in
# CI shows them). Each stack's summary comes from comparing the two templates'
# resources (cfntemplate diff): replaced (logical id or type changed),
# removed, added, modified; `cdk diff`'s own output is shown for reading.
set -euo pipefail
cd "$(dirname "$0")/.."

base="" fail=0 markdown=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="${2:?--base needs a git ref}"; shift 2 ;;
    --fail) fail=1; shift ;;
    --markdown) markdown="${2:?--markdown needs a file}"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "diff-offline: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# No credentials, no instance metadata, no telemetry or version check: the
# diff must be the same on a laptop with an AWS profile and in CI without one.
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
export AWS_REGION="${AWS_REGION:-us-west-2}" AWS_EC2_METADATA_DISABLED=true
export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true
cdk() { npx --no-install cdk --no-notices --no-color "$@"; }
cfntemplate() { go run ./internal/cfntemplate/cmd/cfntemplate "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
asm="$work/cdk.out"

# Synthesize once, without what the CLI adds and the test app does not (path
# and asset metadata, the CDKMetadata resource), then normalize like the
# golden files.
if ! cdk synth --quiet --no-path-metadata --no-asset-metadata --no-version-reporting -o "$asm" "$@" >"$work/synth.log" 2>&1; then
  cat "$work/synth.log" >&2
  echo "diff-offline: cdk synth failed" >&2
  exit 1
fi
cfntemplate normalize "$asm"/*.template.json

mapfile -t stacks < <(cdk ls --app "$asm" 2>/dev/null)
[ "${#stacks[@]}" -gt 0 ] || { echo "diff-offline: no stacks in the cloud assembly" >&2; exit 1; }

against="testdata/ in the work tree"
[ -n "$base" ] && against="testdata/ at $base ($(git rev-parse --short "$base"))"

changed=() statuses=()
for stack in "${stacks[@]}"; do
  golden="testdata/$stack.template.json"
  baseline="$work/$stack.baseline.json"
  if [ -n "$base" ]; then
    git show "$base:$golden" >"$baseline" 2>/dev/null || echo '{}' >"$baseline"
  elif [ -f "$golden" ]; then
    cp "$golden" "$baseline"
  else
    echo '{}' >"$baseline"
  fi
  # The exit status is cdk diff's own (no pipe): its error must reach the
  # message below, not stop the script under `set -e -o pipefail`.
  if ! out=$(cdk diff --app "$asm" --exclusively --template "$baseline" "$stack" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "diff-offline: cdk diff of $stack failed" >&2
    exit 1
  fi
  out=$(grep -v '^npm warn' <<<"$out" || true)
  printf '%s\n' "$out" >"$work/$stack.diff"
  echo "$out"
  if ! cfntemplate diff "$baseline" "$asm/$stack.template.json" >"$work/$stack.changes"; then
    echo "diff-offline: comparing the templates of $stack failed" >&2
    exit 1
  fi
  # Resources aside, the templates may differ in outputs or parameters.
  if [ ! -s "$work/$stack.changes" ] && cmp -s "$baseline" "$asm/$stack.template.json"; then
    statuses+=("no change")
    continue
  fi
  changed+=("$stack")
  sed 's/^/    /' "$work/$stack.changes"
  count() { grep -c "^$1 " "$work/$stack.changes" || true; }
  replaced=$(count replaced) removed=$(count removed) added=$(count added) modified=$(count modified)
  status="changed:"
  # Replacements and removals are what a reviewer must not miss.
  [ "$replaced" -gt 0 ] && status+=" $replaced replaced"
  [ "$removed" -gt 0 ] && status+=" $removed removed"
  [ "$added" -gt 0 ] && status+=" $added added"
  [ "$modified" -gt 0 ] && status+=" $modified modified"
  [ "$status" = "changed:" ] && status+=" outputs or parameters only"
  statuses+=("$status")
done

echo
echo "Offline diff against $against (asset hashes normalized):"
for i in "${!stacks[@]}"; do
  printf '  %-22s %s\n' "${stacks[$i]}" "${statuses[$i]}"
done
if [ "${#changed[@]}" -eq 0 ]; then
  echo "No stack differs."
else
  echo "Stacks that differ: ${changed[*]}"
fi

if [ -n "$markdown" ]; then
  {
    echo "### Offline cdk diff"
    echo
    echo "Against $against; asset hashes normalized."
    echo
    echo "| Stack | Change |"
    echo "|---|---|"
    for i in "${!stacks[@]}"; do
      case "${statuses[$i]}" in
        *replaced*|*removed*) echo "| ${stacks[$i]} | **${statuses[$i]}** |" ;;
        *) echo "| ${stacks[$i]} | ${statuses[$i]} |" ;;
      esac
    done
    for stack in "${changed[@]}"; do
      echo
      echo "<details><summary>$stack</summary>"
      echo
      echo '```'
      cat "$work/$stack.changes"
      echo
      grep -vE '^(Stack |✨|$)' "$work/$stack.diff" || true
      echo '```'
      echo "</details>"
    done
  } >>"$markdown"
fi

[ "$fail" -eq 1 ] && [ "${#changed[@]}" -gt 0 ] && exit 1
exit 0
