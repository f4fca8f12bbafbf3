#!/usr/bin/env bash
# test.sh — THE test command of samizdat (README, and what .ci/run executes).
#
# 1. installs/validates the independent verifiers (scripts/setup-validators.sh),
# 2. exports SAMIZDAT_VENV so tests/it/common finds warcio, cdxj-indexer, wacz and pywb,
# 3. runs every test target of the workspace with cargo test,
# 4. without arguments, runs each fuzz target for a bounded time (scripts/fuzz.sh),
# exiting non-zero if either failed.
#
# Arguments, if any, replace `--workspace --all-targets`, e.g. scripts/test.sh --test it infra_selftest::
# No test may skip: a missing validator makes the tests that need it fail.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-validators.sh
export SAMIZDAT_VENV="$PWD/.venv"
# Loopback only: make sure no proxy setting reroutes test traffic.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
export RUST_BACKTRACE=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if (($#)); then args=("$@"); else args=(--workspace --all-targets); fi
echo "[test.sh] cargo test ${args[*]}"
set +e
cargo test "${args[@]}"
status=$?
set -e
echo "[test.sh] cargo test exited with $status"
# The full run also fuzzes each target for a bounded time (scripts/fuzz.sh).
if ((! $#)); then
    set +e
    scripts/fuzz.sh
    fuzz=$?
    set -e
    echo "[test.sh] fuzz exited with $fuzz"
    if ((status == 0)); then status=$fuzz; fi
fi
exit "$status"
