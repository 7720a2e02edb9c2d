#!/usr/bin/env bash
# Times the README's two commands on a fresh clone, as on a fresh machine:
# a clone of this repository's HEAD in a temp directory, with an empty HOME,
# Go module and build caches, npm cache, jsii package cache and pip cache, and
# a new Python venv first on PATH (so pip installs moto from nothing). Only
# the Go toolchain, Node.js 20 and Python come from the machine, as the
# README's Prerequisites say. Prints each step's seconds and the two totals.
#
#   scripts/fresh-clone.sh            # KEEP=1 keeps the temp directory
#
# It needs the package registries (npm, the Go module proxy, PyPI), and takes
# minutes: most of it is downloading the aws-cdk-go module and compiling its
# bindings, once. ../shared must be beside the project (the clone gets a
# symlink to it).
set -euo pipefail
cd "$(dirname "$0")/.."
proj=$PWD
shared=$(cd "${SHARED:-../shared}" && pwd)
tmp=$(mktemp -d)
[ "${KEEP:-}" = 1 ] || trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

git clone --quiet "$proj" "$tmp/work/hybrid-llm-platform"
ln -s "$shared" "$tmp/work/shared"
mkdir -p "$tmp/home"
python3 -m venv "$tmp/venv"
export HOME=$tmp/home GOPATH=$tmp/gopath GOCACHE=$tmp/gocache GOMODCACHE=$tmp/gopath/pkg/mod \
  npm_config_cache=$tmp/npm-cache PIP_CACHE_DIR=$tmp/pip-cache PATH="$tmp/venv/bin:$PATH"
unset GOFLAGS JSII_RUNTIME_PACKAGE_CACHE_ROOT
cd "$tmp/work/hybrid-llm-platform"

now() { date +%s.%N; }
total=0
# step NAME CMD...: runs CMD, prints its seconds, adds them to $total.
step() {
  local name=$1 s e t; shift
  s=$(now)
  "$@" >"$tmp/$name.log" 2>&1 || { tail -n 40 "$tmp/$name.log" >&2; echo "fresh-clone: $name failed" >&2; exit 1; }
  e=$(now)
  t=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.1f", e-s}')
  total=$(awk -v a="$total" -v b="$t" 'BEGIN{printf "%.1f", a+b}')
  printf '%-28s %7.1f s\n' "$name" "$t"
}

echo "# fresh clone of $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
step "npm ci" npm ci --no-audit --no-fund
step "npm run synth" npm run synth
first=$total total=0
printf '%-28s %7.1f s\n' "= npm ci && npm run synth" "$first"
step "pip install -r req-test" python3 -m pip install --disable-pip-version-check --no-compile -r requirements-test.txt
step "npm test" npm test
printf '%-28s %7.1f s\n' "= pip install && npm test" "$total"
awk -v a="$first" -v b="$total" 'BEGIN{printf "two commands together        %7.1f s\n", a+b}'
echo "load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
