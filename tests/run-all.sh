#!/bin/sh
# Runs every test program (build/tests/test_*) and every tests/test_*.sh,
# then prints the sum of their "N passed, N failed" lines.  Exit status is
# non-zero when any test failed or a program ended without its count line.
BUILD=${BUILD:-build}
total_pass=0
total_fail=0
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$BUILD"/tests/test_* tests/test_*.sh; do
  [ -x "$t" ] || [ "${t%.sh}" != "$t" ] || continue
  [ -e "$t" ] || continue
  case "$t" in *.o) continue ;; esac
  echo "== $t"
  if [ "${t%.sh}" != "$t" ]; then
    BUILD="$BUILD" sh "$t" >"$log" 2>&1
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
