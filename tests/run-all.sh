#!/bin/sh
# Runs every test program (build/tests/test_*) and every tests/test_*.sh,
# then, when SAN_BUILD names a build made with ASan and UBSan, the test
# programs and the trainer and pack tests of that build; and prints the sum of their
# "N passed, N failed" lines.  Exit status is non-zero when any test failed
# or a program ended without its count line.
BUILD=${BUILD:-build}
SAN_BUILD=${SAN_BUILD:-}
total_pass=0
total_fail=0
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
tests=""
for t in "$BUILD"/tests/test_* tests/test_*.sh; do
  case "$t" in *.o) continue ;; esac
  [ -e "$t" ] && tests="$tests $BUILD:$t"
done
if [ -n "$SAN_BUILD" ]; then
  for t in "$SAN_BUILD"/tests/test_* tests/test_trainer.sh tests/test_pack.sh; do
    case "$t" in *.o) continue ;; esac
    [ -e "$t" ] && tests="$tests $SAN_BUILD:$t"
  done
fi
for bt in $tests; do
  b=${bt%%:*} t=${bt#*:}
  echo "== $t${b:+ ($b)}"
  if [ "${t%.sh}" != "$t" ]; then
    # GLib and GEGL keep memory until exit: leaks are checked in the
    # programs that use neither (the test_* binaries)
    BUILD="$b" ASAN_OPTIONS=detect_leaks=0 sh "$t" >"$log" 2>&1
  else
    "$t" >"$log" 2>&1
  fi
  rc=$?
  cat "$log"
  line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "$t: exited $rc without a 'N passed, N failed' line"
    total_fail=$((total_fail + 1))
    status=1
    continue
  fi
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | tail -n 1 | grep -oE '[0-9]+')
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | tail -n 1 | grep -oE '[0-9]+')
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$t: exited $rc"
    total_fail=$((total_fail + 1))
  fi
  [ "$rc" -ne 0 ] && status=1
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$status" -eq 0 ]
