#!/bin/sh
# The weight-loader fuzzer (libFuzzer, ASan, UBSan) for FUZZ_SECONDS
# (default 60), from seeds made by `colorize-train init`.  One check: it
# ran that long and found nothing.
BUILD=${BUILD:-build}
SECONDS_=${FUZZ_SECONDS:-60}
F=$BUILD/fuzz/fuzz_weights
if [ ! -x "$F" ]; then
  echo "FAIL: $F not built (make $F)"
  echo "test_fuzz: 0 passed, 1 failed"
  exit 1
fi
tests/fuzz/make_seeds.sh "$BUILD/colorize-train" "$BUILD/fuzz/seeds" || exit 1
mkdir -p "$BUILD/fuzz/corpus"
log=$BUILD/fuzz/last-run.log
"$F" -max_total_time="$SECONDS_" -max_len=8192 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$BUILD/fuzz/" "$BUILD/fuzz/corpus" "$BUILD/fuzz/seeds" >"$log" 2>&1
rc=$?
grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec' "$log"
if [ $rc -eq 0 ]; then
  echo "ok: fuzzed the weight loader for ${SECONDS_} s, no crash"
  echo "test_fuzz: 1 passed, 0 failed"
else
  tail -n 40 "$log"
  echo "FAIL: the fuzzer found a crash (exit $rc), see $log"
  echo "test_fuzz: 0 passed, 1 failed"
  exit 1
fi
