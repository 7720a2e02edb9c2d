#!/usr/bin/env bash
# The CDK app command (cdk.json "app"): builds the Go app when its sources
# changed, then runs it.
#
# Up to date means: the binary exists, it was built with the same Go
# toolchain and settings (`go env` below, kept in the stamp file), and no file
# or directory of the work tree outside the pruned ones has changed since the
# build started. "Changed" is the inode's change time (find -cnewer), which
# every write, rename, delete, chmod or touch moves forward and no tool can
# set back: a file copied in with an old mtime (cp -p, tar, rsync -t) still
# counts. Then the binary runs without asking go (its check costs about
# 0.3 s of every synth); otherwise `go build` decides, as always. Pruned: the
# outputs and caches that a synth, the tests or npm write (.git, node_modules,
# .cache, cdk.out*, .venv), none of which go build reads. HYBRID_LLM_REBUILD=1
# skips the shortcut.
#
# The build runs without a VCS stamp (it changes with every commit and when the
# tree turns dirty or clean, and would relink the 100 MB binary then). On a
# fresh machine the first build downloads the modules and compiles the
# aws-cdk-go bindings (about 2 minutes, 1 GB of memory), so after a few seconds
# it says so instead of looking hung. Build errors are go's own, on stderr.
# With HYBRID_LLM_TIMINGS=1 it prints how long this took, as the app prints its
# phases (internal/timing; scripts/bench.sh reads them).
set -euo pipefail
cd "$(dirname "$0")/.."
# The repository's Go runtime settings (GOGC, GOMEMLIMIT) for the build, the
# app, and the Lambda builds the app starts (scripts/go.sh).
# shellcheck source=scripts/go.sh
. scripts/go.sh
bin=.cache/hybrid-llm-platform
stamp=$bin.built
mkdir -p .cache
[ "${HYBRID_LLM_TIMINGS:-}" = 1 ] && start=$(date +%s.%N)

toolchain=$(go env GOVERSION GOFLAGS GOOS GOARCH CGO_ENABLED GOEXPERIMENT GOWORK GOTOOLCHAIN | tr '\n' ' ')

# up_to_date: the binary was built from the tree as it is, by this toolchain.
up_to_date() {
  [ "${HYBRID_LLM_REBUILD:-}" != 1 ] && [ -x "$bin" ] && [ -f "$stamp" ] &&
    [ "$(cat "$stamp")" = "$toolchain" ] &&
    [ -z "$(find . \( -name .git -o -name node_modules -o -name .cache -o -name 'cdk.out*' -o -name .venv \) -prune \
      -o -cnewer "$stamp" -print -quit)" ]
}

build() {
  # The new stamp is dated before go reads the sources, with a margin for
  # the coarse clock the kernel stamps files with: a file edited during the
  # build is newer than it, so the next run builds again.
  local t0
  t0=$(date +%s.%N)
  printf '%s' "$toolchain" >"$stamp.new"
  touch -d "@$(awk -v t="$t0" 'BEGIN{printf "%.3f", t-0.05}')" "$stamp.new"
  go build -buildvcs=false -o "$bin" . &
  local build=$! notice status=0
  (
    # The sleep gets no stdout or stderr: left running after the kill below,
    # it would hold the caller's pipes open for the rest of its seconds.
    sleep "${APP_BUILD_NOTICE_SECONDS:-3}" >/dev/null 2>&1
    if kill -0 "$build" 2>/dev/null; then
      echo "hybrid-llm-platform: compiling the Go app; the first build on a machine downloads the modules and compiles the aws-cdk-go bindings (about 2 minutes, once)..." >&2
    fi
  ) &
  notice=$!
  wait "$build" || status=$?
  kill "$notice" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    rm -f "$stamp.new"
    exit "$status"
  fi
  mv "$stamp.new" "$stamp"
}

up_to_date || build
if [ "${HYBRID_LLM_TIMINGS:-}" = 1 ]; then
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "timing: app build check %.3f\n", e-s}' >&2
fi
exec "$bin"
