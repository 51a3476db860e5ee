#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/) with libFuzzer's coverage instrumentation and runs each for
# SECONDS (default 60), then prints executions and crashes per target. A crash's input is kept
# in $TARGET_DIR/fuzz/artifacts/<target>/ (make it a regression test); the exit status is 1 if
# any target crashed. The instrumentation is what cargo-fuzz sets up, minus AddressSanitizer
# (which needs a nightly compiler; the kernel is safe Rust): stable rustc, no nightly needed.
# Usage: [FUZZ_TARGETS="dispatch wasi"] scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
# FUZZ_TARGETS="a b" picks some of them.
read -r -a TARGETS <<<"${FUZZ_TARGETS:-dispatch manifest capset wasi}"
OUT="${CARGO_TARGET_DIR:-target}/fuzz"
mkdir -p "$OUT"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# With --target, the flags reach the targets' code and not build scripts or proc macros.
HOST=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --manifest-path fuzz/Cargo.toml --target-dir "$OUT/build" --target "$HOST" --bins

status=0
printf '%-10s %12s %10s %8s  %s\n' target executions exec/s crashes corpus
for t in "${TARGETS[@]}"; do
  corpus="$OUT/corpus/$t"
  artifacts="$OUT/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  # The built demo manifests are good seeds for the manifest decoder.
  if [ "$t" = manifest ]; then cp -n build/site/manifests/*.bin "$corpus"/ 2>/dev/null || true; fi
  log="$OUT/$t.log"
  set +e
  "$OUT/build/$HOST/release/$t" "$corpus" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" -max_len=65536 -rss_limit_mb=4096 >"$log" 2>&1
  code=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(find "$artifacts" -type f | wc -l)
  printf '%-10s %12s %10s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$crashes" "$(find "$corpus" -type f | wc -l) inputs"
  if [ "$code" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    echo "  $t failed (exit $code); its log: $log; crash inputs in $artifacts" >&2
    grep -m5 -E "panicked|ERROR|SUMMARY" "$log" >&2 || true
  fi
done
exit $status
