#!/usr/bin/env bash
# The go command with this repository's settings for the Go runtime of the
# toolchain (compiler, linker, vet) and of what it runs (test binaries, the
# app): run it as `scripts/go.sh <go args>` (package.json's scripts do), or
# source it for the settings alone (scripts/app.sh does, so the app and the
# Lambda builds it starts through internal/gobundle get them too).
#
# GOGC=400 lets each process's heap grow to five times its live data before a
# collection, instead of twice; GOMEMLIMIT=3GiB caps that growth. A cold build
# is mostly the compiler working through aws-cdk-go's bindings and
# aws-sdk-go-v2's EC2 client, and spends a fifth of its time collecting
# garbage: the Lambda's cold build for arm64 took 62 s instead of 78 s with
# these settings, with a peak of 3.1 GB instead of 3.3 GB (the EC2 client's
# compile; README: Speed). Values already set in the environment win.
export GOGC="${GOGC:-400}" GOMEMLIMIT="${GOMEMLIMIT:-3GiB}"
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  exec go "$@"
fi
