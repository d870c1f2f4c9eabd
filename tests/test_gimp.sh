#!/bin/sh
# test_gimp.sh - the colorize plug-in in real, headless GIMPs: GIMP 2.10
# natively and GIMP 3.0 inside the Debian 13 root of .ci/gimp3-root.sh
# (created on first use, reused afterwards; needs root and the Debian
# mirror; if it cannot be made, the GIMP 3.0 checks fail, loudly).
#
# For each version: the filter on an RGB, a grayscale, an alpha, an offset,
# a selected (hard and feathered), a 16-bit, a float and an indexed image;
# a layer group and a corrupt weights file (errors, image untouched, the
# message names the file); the folder procedure on good images and a
# corrupt file.  The GIMP work is in tests/gimp/run-gimp.sh and
# tests/gimp/checks.scm, the checks in tests/gimp/check-dump.c.
#
# Ends with the line "N passed, N failed"; exits 1 when any failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
OUT=$ROOT/$BUILD/tests/gimp
PASS=0
FAIL=0

ok ()    { echo "ok - $*"; PASS=$((PASS + 1)); }
notok () { echo "not ok - $*"; FAIL=$((FAIL + 1)); }
check () { # check DESCRIPTION COMMAND...
  what=$1; shift
  if "$@" > /dev/null 2>&1; then ok "$what"; else notok "$what"; fi
}
finish () { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; exit $?; }

mkdir -p "$OUT"
# One run at a time per build folder (each run rebuilds $OUT/gimp2, gimp3).
exec 8> "$OUT/.lock"
flock 8

# ---- build what the tests need --------------------------------------------
if ! make -s BUILD="$BUILD" plugin trainer > "$OUT/make.log" 2>&1; then
  cat "$OUT/make.log"
  notok "build the plug-in and the trainer (make plugin trainer)"
  finish
fi
if ! cc -O2 -Wall -Wextra -Werror -std=c11 tests/gimp/check-dump.c \
     -o "$OUT/check-dump" -lm; then
  notok "build tests/gimp/check-dump.c"
  finish
fi

# Trained weights where there are (per architecture), else small random
# ones; the sky check needs the trained ResNet18.
TRAINED=no
WEIGHTS=$OUT/weights
mkdir -p "$WEIGHTS"
for arch in cnn resnet18; do
  rm -f "$WEIGHTS/$arch.weights"
  if [ -f "weights/$arch.weights" ]; then
    cp "weights/$arch.weights" "$WEIGHTS/"
    [ $arch = resnet18 ] && TRAINED=yes
  else
    "$BUILD/colorize-train" init --arch $arch --seed 7 \
      --out "$WEIGHTS/$arch.weights" > /dev/null ||
      notok "colorize-train init --arch $arch"
  fi
done

# ---- checks on one version's results --------------------------------------
check_results () { # check_results VERSION DIR
  v=$1 dir=$2
  if [ ! -f "$dir/session.rc" ]; then
    notok "GIMP $v: the test session ran"
    return
  fi
  [ "$(cat "$dir/session.rc")" = 0 ] && ok "GIMP $v: test session exit status 0" ||
    { notok "GIMP $v: test session exit status $(cat "$dir/session.rc") (see $dir/session.log)"; tail -n 20 "$dir/session.log"; }

  run_check_dump () {
    "$OUT/check-dump" "$@" > "$dir/check.out" 2>&1
    while IFS= read -r line; do
      case $line in
        "ok - "*)     ok "GIMP $v: ${line#ok - }" ;;
        "not ok - "*) notok "GIMP $v: ${line#not ok - }" ;;
        *)            notok "GIMP $v: check-dump: $line" ;;
      esac
    done < "$dir/check.out"
  }
  run_check_dump layer "$dir" rgb ResNet18 --ltol 1.0
  run_check_dump layer "$dir" gray CNN --ltol 1.0
  run_check_dump layer "$dir" alpha ResNet18 --ltol 1.0
  run_check_dump layer "$dir" offsets CNN --ltol 1.0
  run_check_dump layer "$dir" selection ResNet18 --ltol 1.0 --selection
  run_check_dump layer "$dir" feather CNN --ltol 1.0 --soft
  run_check_dump layer "$dir" u16 ResNet18 --ltol 0.05
  run_check_dump layer "$dir" float CNN --ltol 0.01
  run_check_dump layer "$dir" indexed ResNet18 --ltol 1.0
  run_check_dump error "$dir" group
  run_check_dump error "$dir" badweights
  if [ "$TRAINED" = yes ]; then
    run_check_dump sky "$dir" rgb ResNet18
  else
    echo "# GIMP $v: sky-bluer-than-ground check not run: no weights/resnet18.weights"
  fi

  # The corrupt weights file, uncaught: GIMP prints the plug-in's message.
  # GIMP 3.0 exits 70 (execution error); gimp-console-2.10 exits 0 after
  # a failed batch command, so there the failure is read from its log.
  rc=$(cat "$dir/badweights.rc" 2>/dev/null || echo missing)
  if [ "$v" = 2.10 ]; then
    check "GIMP $v: corrupt weights: the batch command failed" \
      grep -q "Procedure execution of plug-in-colorize-cnn failed" "$dir/badweights.log"
  else
    [ "$rc" != 0 ] && [ "$rc" != missing ] &&
      ok "GIMP $v: corrupt weights: non-zero exit ($rc)" ||
      notok "GIMP $v: corrupt weights: non-zero exit (got $rc)"
  fi
  check "GIMP $v: corrupt weights: the message names the file and the loader's error" \
    grep -q "Could not load the weights file '$dir/bad.weights': ." "$dir/badweights.log"

  # The folder procedure.
  run_check_dump note "$dir" dir-result error
  check "GIMP $v: folder: the corrupt file is named on stderr" \
    grep -q "colorize: corrupt.png: " "$dir/session.log"
  for f in castle.png church.png hills.png; do
    run_check_dump colour "$dir" "dirout-$f"
  done
  check "GIMP $v: folder: no output for the corrupt file" \
    test ! -e "$dir/dir-out/corrupt.png"
  check "GIMP $v: folder: no temporary files left" \
    sh -c "! ls -A '$dir/dir-out' | grep -q '^\.'"
  check "GIMP $v: folder: the input folder is unchanged" \
    cmp "$dir/dir-in.before" "$dir/dir-in.after"
}

# ---- GIMP 2.10, natively ----------------------------------------------------
if ! command -v gimp-console-2.10 > /dev/null 2>&1 ||
   ! pkg-config --exists gimp-2.0; then
  notok "GIMP 2.10: gimp-console-2.10 and libgimp2.0-dev are installed"
else
  if cc -O2 -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE \
       $(pkg-config --cflags gimp-2.0 | sed 's/-I/-isystem /g') \
       tests/gimp/dump.c -o "$OUT/dump-gimp2" $(pkg-config --libs gimp-2.0); then
    tests/gimp/run-gimp.sh 2.10 "$ROOT/$BUILD/plugin-gimp2/colorize" \
      "$OUT/dump-gimp2" "$WEIGHTS" "$OUT/gimp2"
    check_results 2.10 "$OUT/gimp2"
  else
    notok "GIMP 2.10: build the test helper tests/gimp/dump.c"
  fi
fi

# ---- GIMP 3.0, in the Debian 13 root ---------------------------------------
B3=$BUILD/gimp3
if .ci/gimp3-root.sh run sh -c "
     make -s BUILD='$B3' plugin > '$OUT/make-gimp3.log' 2>&1 || { cat '$OUT/make-gimp3.log'; exit 1; }
     cc -O2 -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE \
       \$(pkg-config --cflags gimp-3.0 | sed 's/-I/-isystem /g') \
       tests/gimp/dump.c -o '$OUT/dump-gimp3' \$(pkg-config --libs gimp-3.0) || exit 1
     tests/gimp/run-gimp.sh 3.0 '$ROOT/$B3/plugin-gimp3/colorize' \
       '$OUT/dump-gimp3' '$WEIGHTS' '$OUT/gimp3'"; then
  check_results 3.0 "$OUT/gimp3"
else
  notok "GIMP 3.0: build and run in the Debian 13 root (.ci/gimp3-root.sh)"
fi

finish
