#!/bin/sh
# The fuzz targets (libFuzzer, ASan, UBSan) of tests/fuzz/, each for
# FUZZ_SECONDS (default 30) from seeds made from real files
# (tests/fuzz/make_seeds.sh), keeping their corpora in BUILD/fuzz/corpus/:
# the weight loader, the checkpoint reader, the .npy reader, the
# weight file's metadata text and the pack reader.  One check per target: it ran that long
# and found nothing.  Prints each run's executions and coverage.
BUILD=${BUILD:-build}
SECONDS_=${FUZZ_SECONDS:-30}
pass=0
fail=0
tests/fuzz/make_seeds.sh "$BUILD/colorize-train" "$BUILD/fuzz/seeds" || {
  echo "FAIL: seeds for the fuzzers"
  echo "test_fuzz: 0 passed, 1 failed"
  exit 1
}
for t in weights checkpoint npy metadata pack; do
  F=$BUILD/fuzz/fuzz_$t
  if [ ! -x "$F" ]; then
    echo "FAIL: $F not built (make $F)"
    fail=$((fail + 1))
    continue
  fi
  mkdir -p "$BUILD/fuzz/corpus/$t"
  log=$BUILD/fuzz/last-run-$t.log
  "$F" -max_total_time="$SECONDS_" -max_len=8192 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/$t-" \
    "$BUILD/fuzz/corpus/$t" "$BUILD/fuzz/seeds/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  if [ $rc -eq 0 ]; then
    echo "ok: fuzzed the $t reader for ${SECONDS_} s: $runs executions, coverage $cov, no crash"
    pass=$((pass + 1))
  else
    tail -n 40 "$log"
    echo "FAIL: the $t fuzzer found a crash (exit $rc), see $log"
    fail=$((fail + 1))
  fi
done
echo "test_fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
