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
# Cancelling (see "Cancelling a run" in plugin/README.md): GIMP cancels a
# plug-in by killing it, which no headless GIMP can be made to do, so the
# plug-in's test hook kills it the same way at a chosen progress report
# ($COLORIZE_TEST_CANCEL_FILE, compiled only into the test build of
# make plugin-test; the shipped plug-in is checked to lack it): for each
# version, runs killed at the
# first, a middle and the last report leave the image as it was and
# clean (no undo step), a run past the last report completes (no progress
# once the image is changed), a killed folder run writes nothing; and the
# folder procedure turns a GIF (made here with ImageMagick) into an
# indexed GIF with colour.  GIMP side: tests/gimp/run-cancel.sh and
# tests/gimp/cancel.scm.  Without GIMP: tests/gimp/core-cancel.c checks
# the shared core's cancel paths and the hook itself.
#
# Vividness (the last argument of the filters and the folder procedure):
# for each version, both filters and the folder procedure take it, and
# GIMP 3.0 callers may leave it out; on a colour-class model (made here:
# colorize-train init --head class, then tests/gimp/class-weights.c gives
# it a known colour distribution) vividness 1 gives more chroma than 0,
# in a layer and through the folder procedure; on a regression model
# it changes nothing; out-of-range values are refused and the
# image is left as it was; COLORIZE_VERBOSE names the temperature used.
# Without GIMP: tests/gimp/core-vividness.c checks the mapping and the
# core.
#
# Colour hints (the filters' hints layer and hints-only arguments, and
# plug-in-colorize-dir-hints): for each version, on hints layers made here
# with ImageMagick (opaque rectangles of colour on transparency), the
# stroke pixels of the result hold the strokes' a,b (within 2), its L is
# the photo's (within 0.26 at 8 bit: the
# bound of rounding each sRGB channel by half a step, reached near
# (0, 0.11, 0.12)); an empty hints layer gives exactly
# the plain result and says so; a hints layer with its own size and
# offsets acts on its overlap with a layer that has offsets too (float
# image); hints only (no network) holds the strokes too; the hints layer
# being the layer colorized, and hints only without hints, are refused
# with the image left as it was; the folder procedure with a hints folder
# colours a photo from its hints file, colorizes a photo without one, and
# fails a photo whose hints file has the wrong size, naming both sizes;
# its model "hints-only" works there and is refused by
# plug-in-colorize-dir.  Without GIMP: tests/gimp/core-hints.c checks
# reading, clipping and scaling hints and the core with them.
#
# SIGKILL at random moments of the folder procedure (tests/gimp/run-kill.sh,
# "Cancelling a run" in plugin/README.md): for each version, 24 runs on
# four photos killed from outside at random moments, then 8 runs in which
# gimp-console itself is killed (all it started must end by itself); the
# input folder is
# unchanged, every output complete or absent, at most one temporary of
# ours per folder, and reruns into those folders complete, remove the
# temporaries and leave no hidden file (COLORIZE_KILL_RUNS: the count).
#
# Outputs keep their input's kind (plugin/README.md): for each version,
# the folder procedure on inputs made here with ImageMagick; identify
# checks format, size, alpha or not, bit depth, JPEG quality and the
# embedded ICC profile of each output.  In the Debian 13 root,
# tests/test_install.sh checks where make install puts the GIMP 3.0
# plug-in (make test runs it natively for GIMP 2.10).
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
if ! make -s BUILD="$BUILD" plugin plugin-test trainer > "$OUT/make.log" 2>&1; then
  cat "$OUT/make.log"
  notok "build the plug-in and the trainer (make plugin plugin-test trainer)"
  finish
fi
# The cancel test hook is in the test build only, never in the shipped one.
if [ -x "$BUILD/plugin-gimp2/colorize" ]; then
  if ! grep -q COLORIZE_TEST_CANCEL_FILE "$BUILD/plugin-gimp2/colorize" &&
     grep -q COLORIZE_TEST_CANCEL_FILE "$BUILD/plugin-gimp2-test/colorize"; then
    ok "GIMP 2.10: the cancel test hook is in the test build only"
  else
    notok "GIMP 2.10: the cancel test hook is in the test build only"
  fi
fi
if ! cc -O2 -Wall -Wextra -Werror -std=c11 tests/gimp/check-dump.c \
     -o "$OUT/check-dump" -lm; then
  notok "build tests/gimp/check-dump.c"
  finish
fi

# The Makefile's own variables (flags for the programs linked here).
make_var () { printf 'print-%%:\n\t@echo $($*)\n' |
              make -s --no-print-directory -f Makefile -f - BUILD="$BUILD" "print-$1"; }

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
# The vividness checks' regression CNN (the bundled one has colour
# classes since 2026-12-02): random weights, the a,b head.
"$BUILD/colorize-train" init --arch cnn --seed 7 \
  --out "$WEIGHTS/cnn-regression.weights" > /dev/null ||
  notok "colorize-train init --arch cnn (the regression model)"
# The vividness checks' colour-class ResNet18: random, then with the
# known colour distribution of tests/gimp/class-weights.c.
rm -f "$WEIGHTS/resnet18-class.weights"
if cc $(make_var ALL_CFLAGS) tests/gimp/class-weights.c "$BUILD/libnn.a" \
     $(make_var ALL_LDLIBS) -o "$OUT/class-weights" > "$OUT/class-weights.log" 2>&1 &&
   "$BUILD/colorize-train" init --arch resnet18 --head class --seed 7 \
     --out "$WEIGHTS/resnet18-class-init.weights" >> "$OUT/class-weights.log" 2>&1 &&
   "$OUT/class-weights" "$WEIGHTS/resnet18-class-init.weights" \
     "$WEIGHTS/resnet18-class.weights" >> "$OUT/class-weights.log" 2>&1; then
  ok "make a colour-class weights file (colorize-train init --head class, tests/gimp/class-weights.c)"
else
  cat "$OUT/class-weights.log"
  notok "make a colour-class weights file (colorize-train init --head class, tests/gimp/class-weights.c)"
fi

# ---- the shared core, without GIMP ------------------------------------------
# core_test NAME ARGS...: builds tests/gimp/NAME.c with plugin/colorize-core.c
# and GEGL (the unit tests do not link it), runs it, counts its lines.
core_test () {
  name=$1; shift
  if cc $(make_var ALL_CFLAGS) $(make_var GEGL_CFLAGS | sed 's/-I/-isystem /g') \
       -DCOLORIZE_TEST_HOOKS -Iplugin "tests/gimp/$name.c" plugin/colorize-core.c "$BUILD/libnn.a" \
       $(make_var GEGL_LIBS) $(make_var ALL_LDLIBS) -o "$OUT/$name" \
       > "$OUT/$name.log" 2>&1; then
    "$OUT/$name" "$@" > "$OUT/$name.out" 2>&1
    while IFS= read -r line; do
      case $line in
        "ok - "*)     ok "${line#ok - }" ;;
        "not ok - "*) notok "${line#not ok - }" ;;
        "colorize: test hook: "*) ;;  # the hook's children say why they die
        *)            notok "$name: $line" ;;
      esac
    done < "$OUT/$name.out"
  else
    cat "$OUT/$name.log"
    notok "build tests/gimp/$name.c"
  fi
}
core_test core-cancel "$WEIGHTS/cnn.weights"
core_test core-vividness "$WEIGHTS/cnn-regression.weights" "$WEIGHTS/resnet18-class.weights"
core_test core-hints "$WEIGHTS/cnn.weights"

# The GIF the folder procedure gets, made outside GIMP.
GIF=$OUT/fixtures/hills.gif
mkdir -p "$OUT/fixtures"
rm -f "$GIF"
convert tests/gimp/samples/hills.png "$GIF" > /dev/null 2>&1 ||
  notok "make a GIF fixture with ImageMagick (convert)"
# Colour hints: castle's size (128 x 192): a light blue stroke on the
# bright sky, an olive one on the dark ground; for the offset case
# (120 x 100, placed at -10,70 over hills at 25,15): strokes inside,
# across the photo's left edge and below it; and one of the wrong size.
FIX=$OUT/fixtures
rm -f "$FIX"/hints-*.png
if convert -size 128x192 xc:none +antialias \
     -fill '#7a9cc8' -draw 'rectangle 8,8 40,20' \
     -fill '#6b7a3a' -draw 'rectangle 20,150 100,160' \
     "PNG32:$FIX/hints-castle.png" &&
   convert -size 120x100 xc:none +antialias \
     -fill '#a0705a' -draw 'rectangle 40,10 90,20' \
     -draw 'rectangle 20,40 50,46' \
     -fill '#5a7aa0' -draw 'rectangle 100,80 118,95' \
     "PNG32:$FIX/hints-hills.png" &&
   convert -size 100x80 xc:none +antialias \
     -fill '#a0705a' -draw 'rectangle 10,10 50,20' \
     "PNG32:$FIX/hints-wrong-size.png"; then
  ok "make the colour hints fixtures with ImageMagick (convert)"
else
  notok "make the colour hints fixtures with ImageMagick (convert)"
fi

# Outputs keep their input's kind: opaque RGB PNG, TIFF and WebP (no
# alpha may appear), with alpha (kept), 16-bit, JPEG at quality 60 and
# 92, and a PNG and a JPEG with an embedded ICC profile (Adobe RGB, from
# ghostscript's profiles; not sRGB, so a profile replaced by GIMP's sRGB
# shows).  The inputs are RGB (TrueColor) copies of the grey samples.
KINDS=$FIX/kinds
KIND_FILES="rgb.png rgba.png rgb16.png rgb.tif rgb.webp rgba.webp q60.jpg icc.png icc-q92.jpg"
ICC=$(ls /usr/share/color/icc/ghostscript/a98.icc /usr/share/color/icc/*/*.icc \
        /usr/share/color/icc/*.icc 2>/dev/null | head -n 1)
rm -rf "$KINDS"
mkdir -p "$KINDS"
S=tests/gimp/samples
if [ -n "$ICC" ] &&
   convert $S/hills.png -type TrueColor "PNG24:$KINDS/rgb.png" &&
   convert $S/church.png -type TrueColorAlpha -alpha set -channel A \
     -fx 'i<50?0.5:1' +channel "PNG32:$KINDS/rgba.png" &&
   convert $S/castle.png -type TrueColor -depth 16 "PNG48:$KINDS/rgb16.png" &&
   convert $S/landscape.png -type TrueColor -compress lzw "$KINDS/rgb.tif" &&
   convert $S/portrait.png -type TrueColor -quality 90 "$KINDS/rgb.webp" &&
   convert "$KINDS/rgba.png" "$KINDS/rgba.webp" &&
   convert $S/hills.png -type TrueColor -quality 60 "$KINDS/q60.jpg" &&
   convert $S/church.png -type TrueColor -profile "$ICC" "PNG24:$KINDS/icc.png" &&
   convert $S/castle.png -type TrueColor -quality 92 -profile "$ICC" \
     "$KINDS/icc-q92.jpg"; then
  ok "make the output-kind fixtures with ImageMagick (convert; ICC profile $ICC)"
else
  notok "make the output-kind fixtures with ImageMagick (convert; ICC profile '$ICC')"
fi

# The SIGKILL test's photos: two PNGs, a JPEG and a TIFF (each format's
# save is a moment to be killed in).
KILL_IN=$FIX/kill-in
rm -rf "$KILL_IN"
mkdir -p "$KILL_IN"
cp tests/gimp/samples/castle.png tests/gimp/samples/hills.png \
   "$KINDS/q60.jpg" "$KINDS/rgb.tif" "$KILL_IN/" ||
  notok "copy the SIGKILL test's photos"
KILL_RUNS=${COLORIZE_KILL_RUNS:-24}

# ---- checks on one version's results --------------------------------------
# check-dump's lines, each counted, with "GIMP $v: " before them.
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

check_session () { # check_session DIR WHAT [NAME: session]
  n=${3:-session}
  if [ ! -f "$1/$n.rc" ]; then
    notok "GIMP $v: the $2 ran"
    return 1
  fi
  [ "$(cat "$1/$n.rc")" = 0 ] && ok "GIMP $v: $2 exit status 0" ||
    { notok "GIMP $v: $2 exit status $(cat "$1/$n.rc") (see $1/$n.log)"; tail -n 20 "$1/$n.log"; }
}

check_results () { # check_results VERSION DIR
  v=$1 dir=$2
  check_session "$dir" "test session" || return
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

  # Vividness: the colour-class model at 0, 1 and the default.
  for c in vivid-0 vivid-1 vivid-default; do
    run_check_dump layer "$dir" $c ResNet18 --ltol 1.0
  done
  run_check_dump chroma "$dir" vivid-0-after vivid-1-after "Colorized (ResNet18)" more
  for t in "1.000 (vividness 0)" "0.200 (vividness 1)" \
           "0.380 (vividness -1: the model's default)"; do
    check "GIMP $v: vividness: COLORIZE_VERBOSE says 'temperature $t'" \
      grep -qF "colorize: 263 colour classes, temperature $t" "$dir/session.log"
  done
  # A regression model (a,b head): no effect.
  for c in regression-0 regression-1; do
    run_check_dump layer "$dir" $c CNN --ltol 1.0
  done
  run_check_dump chroma "$dir" regression-0-after regression-1-after "Colorized (CNN)" same
  check "GIMP $v: vividness: COLORIZE_VERBOSE says a regression model ignores it" \
    grep -qF "colorize: no colour classes: the vividness has no effect" "$dir/session.log"
  # Out of range: refused, the image as it was.
  run_check_dump error "$dir" vivid-bad-low
  run_check_dump error "$dir" vivid-bad-high
  # The folder procedure.
  run_check_dump note "$dir" vdir-0-result ok
  run_check_dump note "$dir" vdir-1-result ok
  run_check_dump chroma "$dir" vdir-0-hills vdir-1-hills - more
  run_check_dump note "$dir" vdir-bad-result error
  check "GIMP $v: vividness: the folder procedure refuses -0.5 before writing anything" \
    test ! -e "$dir/vdir-bad"
  check_hints_results
  check_kinds_results
}

# What identify says of a file's first image: format, size, channels
# (srgb or srgba: alpha or not), bit depth.
kind_of () { identify -format '%m %wx%h %[channels] %z-bit' "$1[0]" 2>/dev/null; }

check_kinds_results () { # after check_results' v and dir
  run_check_dump note "$dir" kinds-result ok
  for f in $KIND_FILES; do
    src=$KINDS/$f dst=$dir/kinds-out/$f
    want=$(kind_of "$src") got=$(kind_of "$dst")
    [ -n "$want" ] && [ "$got" = "$want" ] &&
      ok "GIMP $v: kinds: $f keeps its kind ($got)" ||
      notok "GIMP $v: kinds: $f keeps its kind (want '$want', got '$got')"
    case $f in
      *.jpg)
        want=$(identify -format %Q "$src") got=$(identify -format %Q "$dst" 2>/dev/null)
        [ "$got" = "$want" ] &&
          ok "GIMP $v: kinds: $f keeps its JPEG quality ($got)" ||
          notok "GIMP $v: kinds: $f keeps its JPEG quality (want $want, got '$got')" ;;
    esac
    case $f in
      icc*)
        rm -f "$dir/kinds-$f.icc"
        convert "$dst" "$dir/kinds-$f.icc" > /dev/null 2>&1
        check "GIMP $v: kinds: $f keeps its embedded ICC profile byte for byte" \
          cmp "$ICC" "$dir/kinds-$f.icc" ;;
    esac
  done
  check "GIMP $v: kinds: no temporary files left" \
    sh -c "! ls -A '$dir/kinds-out' | grep -q '^\.'"
}

check_hints_results () { # after check_results' v and dir
  run_check_dump layer "$dir" hints ResNet18 --ltol 0.26
  run_check_dump strokes "$dir" hints-after "Colorized (ResNet18)" hints-after hints
  # An empty hints layer: exactly the plain result (in a session of
  # their own with BABL_TOLERANCE=0: see tests/gimp/exact.scm).
  check_session "$dir" "exact session" exact
  run_check_dump layer "$dir" hints-plain ResNet18 --ltol 0.26
  run_check_dump layer "$dir" hints-empty ResNet18 --ltol 0.26
  run_check_dump chroma "$dir" hints-plain-after hints-empty-after "Colorized (ResNet18)" exact
  check "GIMP $v: hints: an empty hints layer is named in a message" \
    grep -q "The colour hints layer 'hints' has nothing painted over" "$dir/exact.log"
  run_check_dump layer "$dir" hints-only "hints only" --ltol 0.26
  run_check_dump strokes "$dir" hints-only-after "Colorized (hints only)" hints-only-after hints
  check "GIMP $v: hints only: COLORIZE_VERBOSE says no network ran" \
    grep -q "colorize: hints only: no network" "$dir/session.log"
  run_check_dump layer "$dir" hints-offset CNN --ltol 0.01
  run_check_dump strokes "$dir" hints-offset-after "Colorized (CNN)" hints-offset-after hints
  run_check_dump error "$dir" hints-self
  check "GIMP $v: hints: the hints layer being the layer colorized is named as the problem" \
    grep -q "The colour hints layer is '.*', the layer being colorized" "$dir/session.log"
  run_check_dump error "$dir" hints-only-none
  check "GIMP $v: hints only without a hints layer: the message says so" \
    grep -q "Hints only colours from the colour hints alone" "$dir/session.log"

  # The folder procedure with hints.
  run_check_dump note "$dir" hdir-result error
  check "GIMP $v: folder hints: the wrong-size hints file is named with both sizes" \
    grep -q "colorize: hills.png: the hints file '$dir/hdir-hints/hills.png' is 100 x 80 pixels, the photo 192 x 128" "$dir/session.log"
  check "GIMP $v: folder hints: no output for the photo with wrong-size hints" \
    test ! -e "$dir/hdir/hills.png"
  run_check_dump colour "$dir" hdir-church
  check "GIMP $v: folder hints: a photo without a hints file is noted" \
    grep -q "church.png: no hints file '$dir/hdir-hints/church.png'" "$dir/session.log"
  run_check_dump strokes "$dir" hdir-castle - hdir-hints-castle -
  run_check_dump note "$dir" hodir-result ok
  run_check_dump strokes "$dir" hodir-castle - hdir-hints-castle -
  run_check_dump note "$dir" dir-hints-only-result error
  check "GIMP $v: folder: plug-in-colorize-dir refuses the model hints-only" \
    grep -q 'The model "hints-only" colours from hints alone' "$dir/session.log"
}

check_cancel_results () { # check_cancel_results VERSION DIR
  v=$1 dir=$2
  check_session "$dir" "cancel session" || return

  for c in cancel-first cancel-middle cancel-last cancel-indexed; do
    run_check_dump error "$dir" $c
    check "GIMP $v: $c: the image is still clean (no undo step pushed)" \
      grep -qx clean "$dir/$c.dirty"
  done
  n=$(grep -c "colorize: test hook: cancelled at progress" "$dir/session.log")
  [ "$n" = 5 ] && ok "GIMP $v: cancel: the hook killed the plug-in 5 times" ||
    notok "GIMP $v: cancel: the hook killed the plug-in 5 times (got $n)"
  n=$(grep -c "colorize: test hook: cancelled at progress 0.850 " "$dir/session.log")
  [ "$n" = 2 ] && ok "GIMP $v: cancel: 0.85 is the filter's last report (2 kills there)" ||
    notok "GIMP $v: cancel: 0.85 is the filter's last report (2 kills there, got $n)"
  check "GIMP $v: cancel: GIMP found no undo group left open" \
    sh -c "! grep -q 'inconsistent state' '$dir/session.log'"
  run_check_dump layer "$dir" past-last CNN --ltol 1.0

  check "GIMP $v: cancel: the killed folder run failed" \
    grep -qx error "$dir/cancel-dir-result"
  check "GIMP $v: cancel: the killed folder run wrote no output" \
    sh -c "[ -z \"\$(ls -A '$dir/cancel-dir-out' 2>/dev/null)\" ]"
  check "GIMP $v: cancel: the killed folder run left its input unchanged" \
    cmp "$dir/cancel-dir-in.before" "$dir/cancel-dir-in.after"

  gif=$(basename "$GIF")
  check "GIMP $v: GIF: the folder procedure succeeded" \
    grep -qx ok "$dir/gif-result"
  want=$(identify -format '%m %wx%h' "$GIF" 2>/dev/null)
  got=$(identify -format '%m %wx%h' "$dir/gif-out/$gif" 2>/dev/null)
  [ -n "$want" ] && [ "$got" = "$want" ] &&
    ok "GIMP $v: GIF: the output is a GIF of the input's size ($got)" ||
    notok "GIMP $v: GIF: the output is a GIF of the input's size (want '$want', got '$got')"
  check "GIMP $v: GIF: GIMP loads the output as an indexed image" \
    grep -qx 2 "$dir/gif-base"
  run_check_dump colour "$dir" gifout
  check "GIMP $v: GIF: no temporary files left" \
    sh -c "! ls -A '$dir/gif-out' | grep -q '^\.'"
  check "GIMP $v: GIF: the input folder is unchanged" \
    cmp "$dir/gif-in.before" "$dir/gif-in.after"
}

# Whether DST is a complete image of SRC's size (ImageMagick decodes it
# whole).
complete_output () {
  [ "$(identify -format '%wx%h' "$2[0]" 2>/dev/null)" = \
    "$(identify -format '%wx%h' "$1[0]" 2>/dev/null)" ] &&
    convert "$2[0]" null: > /dev/null 2>&1
}

# Whether DIR holds a complete output of every photo (the missing ones
# in $missing).
all_outputs () {
  missing=""
  for f in $(ls "$KILL_IN"); do
    complete_output "$KILL_IN/$f" "$1/$f" || missing="$missing $f"
  done
  [ -z "$missing" ]
}

# check_kill_folder WHAT DIR: every visible file of DIR is a complete
# output of its photo; hidden files are at most one temporary of ours
# (.colorize-PID-<photo name>).  Prints the problems.
check_kill_folder () {
  bad="" n_tmp=0
  for f in $(ls "$2" 2>/dev/null); do
    [ -f "$KILL_IN/$f" ] && complete_output "$KILL_IN/$f" "$2/$f" ||
      bad="$bad $f"
  done
  for f in $(ls -A "$2" 2>/dev/null | grep '^\.'); do
    n_tmp=$((n_tmp + 1))
    name=$(echo "$f" | sed -n 's/^\.colorize-[0-9][0-9]*-//p')
    [ -n "$name" ] && [ -f "$KILL_IN/$name" ] && [ $n_tmp = 1 ] ||
      bad="$bad $f"
  done
  [ -z "$bad" ] && ok "GIMP $v: kill: $1: outputs complete or absent, at most one temporary of ours" ||
    notok "GIMP $v: kill: $1: outputs complete or absent, at most one temporary of ours (not:$bad)"
}

# The runs whose gimp-console was killed (run-kill.sh's gkiller.log): the
# processes GIMP had started end by themselves (the orphaned plug-in goes
# on writing nothing), a run's outputs are complete or absent.  Uses $v
# and $dir.
check_gimp_kills () {
  n_gk=$(grep -c ' gimp-killed' "$dir/gkiller.log" 2>/dev/null)
  n_all=$(grep -c . "$dir/gkiller.log" 2>/dev/null)
  [ "${n_gk:-0}" -ge 1 ] &&
    ok "GIMP $v: kill: gimp-console itself killed with SIGKILL in $n_gk of $n_all runs" ||
    notok "GIMP $v: kill: gimp-console itself killed at least once (see $dir/gkiller.log)"
  while read -r i pid ms what extra; do
    got=$(cat "$dir/gkill-result-$i" 2>/dev/null)
    if [ "$what" = gimp-killed ]; then
      [ -z "$extra" ] &&
        ok "GIMP $v: kill: run $i (gimp-console killed after $ms ms): every process it had started ended by itself" ||
        notok "GIMP $v: kill: run $i (gimp-console killed after $ms ms): $extra processes it had started still ran 30 s later"
    fi
    if [ "$got" = ok ] && ! all_outputs "$dir/after-kill/kill-out-$i"; then
      notok "GIMP $v: kill: run $i ($what after $ms ms) said ok: every output there (not:$missing)"
    fi
    check_kill_folder "run $i ($what)" "$dir/after-kill/kill-out-$i"
  done < "$dir/gkiller.log"
}

check_kill_results () { # check_kill_results VERSION DIR
  v=$1 dir=$2
  echo "# GIMP $v: kill test: seed $(cat "$dir/seed" 2>/dev/null), $(cat "$dir"/*.time 2>/dev/null | tr '\n' ' ')"
  check_session "$dir" "kill session" kill-session || return
  check_session "$dir" "rerun session" rerun-session
  check "GIMP $v: kill: run 0 (not killed) succeeded" grep -qx ok "$dir/kill-result-0"
  n_killed=$(grep -c ' killed$' "$dir/killer.log")
  n_done=$(grep -c ' finished$' "$dir/killer.log")
  [ $((n_killed + n_done)) = "$KILL_RUNS" ] && [ "$n_killed" -ge $((KILL_RUNS / 3)) ] &&
    ok "GIMP $v: kill: $n_killed of $KILL_RUNS runs killed with SIGKILL at random moments, $n_done finished first" ||
    notok "GIMP $v: kill: at least $((KILL_RUNS / 3)) of $KILL_RUNS runs killed (killed $n_killed, finished $n_done; see $dir/killer.log)"
  while read -r i pid ms what; do
    [ "$i" = 0 ] && continue
    # A run killed after it had answered GIMP (between its last reply
    # and its exit) returned ok: then all its outputs must be there.
    got=$(cat "$dir/kill-result-$i" 2>/dev/null)
    if [ "$what" = killed ] && [ "$got" = error ]; then
      ok "GIMP $v: kill: run $i (killed after $ms ms) failed"
    elif [ "$got" = ok ] && all_outputs "$dir/after-kill/kill-out-$i"; then
      ok "GIMP $v: kill: run $i ($what after $ms ms) succeeded, every output there"
    else
      notok "GIMP $v: kill: run $i ($what after $ms ms): failed if killed, else every output there (got '$got')"
    fi
    check_kill_folder "run $i" "$dir/after-kill/kill-out-$i"
  done < "$dir/killer.log"
  check_gimp_kills
  check "GIMP $v: kill: the input folder is byte for byte unchanged by the kills" \
    cmp "$dir/kill-in.before" "$dir/kill-in.after-kill"
  check "GIMP $v: kill: the input folder is byte for byte unchanged by the reruns" \
    cmp "$dir/kill-in.before" "$dir/kill-in.after"
  for i in $(cat "$dir/rerun-list"); do
    check "GIMP $v: kill: the rerun into run $i's folder succeeded" \
      grep -qx ok "$dir/rerun-result-$i"
    all_outputs "$dir/kill-out-$i" &&
      ok "GIMP $v: kill: the rerun into run $i's folder wrote every output whole" ||
      notok "GIMP $v: kill: the rerun into run $i's folder wrote every output whole (not:$missing)"
    for t in $(ls -A "$dir/after-kill/kill-out-$i" | grep '^\.'); do
      check "GIMP $v: kill: the rerun removed $t and said so" \
        grep -qF "colorize: removed '$dir/kill-out-$i/$t', left by a run that was killed" \
          "$dir/rerun-session.log"
    done
  done
  left=$(ls -A "$dir"/kill-out-* | grep '^\.')
  [ -z "$left" ] && ok "GIMP $v: kill: no temporary file left under any name after the reruns" ||
    notok "GIMP $v: kill: no temporary file left under any name after the reruns (left: $left)"
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
      "$OUT/dump-gimp2" "$WEIGHTS" "$OUT/gimp2" "$FIX"
    check_results 2.10 "$OUT/gimp2"
    tests/gimp/run-cancel.sh 2.10 "$ROOT/$BUILD/plugin-gimp2-test/colorize" \
      "$OUT/dump-gimp2" "$WEIGHTS" "$GIF" "$OUT/gimp2-cancel"
    check_cancel_results 2.10 "$OUT/gimp2-cancel"
    tests/gimp/run-kill.sh 2.10 "$ROOT/$BUILD/plugin-gimp2/colorize" \
      "$WEIGHTS" "$KILL_IN" "$OUT/gimp2-kill" "$KILL_RUNS"
    check_kill_results 2.10 "$OUT/gimp2-kill"
  else
    notok "GIMP 2.10: build the test helper tests/gimp/dump.c"
  fi
fi

# ---- GIMP 3.0, in the Debian 13 root ---------------------------------------
B3=$BUILD/gimp3
rm -f "$OUT/gimp3-hook-ok"
if .ci/gimp3-root.sh run sh -c "
     make -s BUILD='$B3' plugin plugin-test > '$OUT/make-gimp3.log' 2>&1 || { cat '$OUT/make-gimp3.log'; exit 1; }
     ! grep -q COLORIZE_TEST_CANCEL_FILE '$B3/plugin-gimp3/colorize' &&
       grep -q COLORIZE_TEST_CANCEL_FILE '$B3/plugin-gimp3-test/colorize' &&
       touch '$OUT/gimp3-hook-ok'
     cc -O2 -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE \
       \$(pkg-config --cflags gimp-3.0 | sed 's/-I/-isystem /g') \
       tests/gimp/dump.c -o '$OUT/dump-gimp3' \$(pkg-config --libs gimp-3.0) || exit 1
     tests/gimp/run-gimp.sh 3.0 '$ROOT/$B3/plugin-gimp3/colorize' \
       '$OUT/dump-gimp3' '$WEIGHTS' '$OUT/gimp3' '$FIX'
     tests/gimp/run-cancel.sh 3.0 '$ROOT/$B3/plugin-gimp3-test/colorize' \
       '$OUT/dump-gimp3' '$WEIGHTS' '$GIF' '$OUT/gimp3-cancel'
     tests/gimp/run-kill.sh 3.0 '$ROOT/$B3/plugin-gimp3/colorize' \
       '$WEIGHTS' '$KILL_IN' '$OUT/gimp3-kill' '$KILL_RUNS'
     BUILD='$B3' tests/test_install.sh > '$OUT/install-gimp3.out' 2>&1
     exit 0"; then
  check_results 3.0 "$OUT/gimp3"
  if [ -f "$OUT/gimp3-hook-ok" ]; then
    ok "GIMP 3.0: the cancel test hook is in the test build only"
  else
    notok "GIMP 3.0: the cancel test hook is in the test build only"
  fi
  check_cancel_results 3.0 "$OUT/gimp3-cancel"
  check_kill_results 3.0 "$OUT/gimp3-kill"
  # Where make install puts the GIMP 3.0 plug-in (tests/test_install.sh,
  # which make test runs natively for GIMP 2.10).
  while IFS= read -r line; do
    case $line in
      "ok - "*)     ok "GIMP 3.0: install: ${line#ok - }" ;;
      "not ok - "*) notok "GIMP 3.0: install: ${line#not ok - }" ;;
      *" passed, "*" failed") ;;
      *)            notok "GIMP 3.0: install: $line" ;;
    esac
  done < "$OUT/install-gimp3.out"
  grep -q "^ok - " "$OUT/install-gimp3.out" ||
    notok "GIMP 3.0: install: tests/test_install.sh ran in the Debian 13 root"
else
  notok "GIMP 3.0: build and run in the Debian 13 root (.ci/gimp3-root.sh)"
fi

finish
