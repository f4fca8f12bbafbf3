#!/usr/bin/env bash
# fuzz.sh — builds the fuzz targets of fuzz/ and runs each one for a bounded time on a
# copy of its committed seed corpus (fuzz/corpus/<target>); exits non-zero on a crash
# (a panic, an overflow: the targets are built with debug assertions and overflow checks).
#
# Stable toolchain: libfuzzer-sys links libFuzzer itself; the coverage instrumentation is
# the set of flags `cargo fuzz build --sanitizer none` passes. RUSTC_BOOTSTRAP=1 lets
# `cargo fuzz run` work too where cargo-fuzz is installed.
#
#   FUZZ_SECONDS (default 25)  time per target
#   scripts/fuzz.sh [target...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs="${FUZZ_SECONDS:-25}"
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(warc_reader bundle_reader platform_answers); fi
triple="$(rustc -vV | sed -n 's/^host: //p')"

export RUSTC_BOOTSTRAP=1
# Instrument only the target triple (not build scripts and proc macros).
export CARGO_TARGET_"$(echo "$triple" | tr 'a-z-' 'A-Z_')"_RUSTFLAGS="--cfg fuzzing \
-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"

echo "[fuzz] building ${targets[*]} ($triple)"
build_args=()
for t in "${targets[@]}"; do build_args+=(--bin "$t"); done
cargo build --release --locked --target "$triple" "${build_args[@]}"

status=0
for t in "${targets[@]}"; do
    work="target/corpus/$t"
    mkdir -p "$work" "artifacts/$t"
    echo "[fuzz] $t for ${secs}s (seeds: corpus/$t)"
    if ! "target/$triple/release/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=262144 -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        "$work" "corpus/$t" 2>"target/$t.log"; then
        status=1
        tail -n 60 "target/$t.log"
        echo "[fuzz] $t CRASHED: input kept in fuzz/artifacts/$t/ (replay: target/$triple/release/$t <file>)"
    else
        grep -E "^(stat::number_of_executed_units|Done )" "target/$t.log" || true
        echo "[fuzz] $t: no crash"
    fi
done
exit "$status"
