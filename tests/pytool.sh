# Sourced by the tests of the Python measuring tools (tests/test_*.sh
# with NAME set to the test's name): PY, the numpy check (a test without
# numpy says it skipped and exits 0), a temporary folder $tmp removed at
# exit, check NAME CONDITION, and finish, which prints the count line.
PY=/usr/bin/python3
if ! $PY -c 'import numpy' 2>/dev/null; then
  echo "$NAME: numpy not installed, skipped"
  echo "$NAME: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check () { # name, condition (shell test)
  if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi
}
finish () {
  echo "$NAME: $pass passed, $fail failed"
  [ $fail = 0 ]
}
