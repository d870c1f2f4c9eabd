#!/bin/sh
# run-gimp.sh VERSION PLUGIN DUMP-HELPER WEIGHTS-DIR OUT FIXTURES
#
# The GIMP half of tests/test_gimp.sh for one GIMP version (2.10 or 3.0),
# run where that GIMP is (natively, or inside the Debian 13 root): makes a
# throw-away GIMP profile in OUT/profile holding the plug-in, the bundled
# weights from WEIGHTS-DIR and the test-colorize-dump helper, then runs
# two gimp-console sessions, with COLORIZE_VERBOSE set (the plug-in says
# which temperature it used):
#   session   every case of checks.scm (dumps in OUT), plus the folder
#             procedure on OUT/dir-in (good samples and a corrupt file)
#             and, with WEIGHTS-DIR/resnet18-class.weights (a colour-class
#             model, copied to OUT/class.weights), on OUT/vdir-in; the
#             colour hints cases with the hints PNGs of FIXTURES, and the
#             folder procedure with hints on OUT/hdir-in and OUT/hodir-in
#             (hints in OUT/hdir-hints)
#   badweights  the filter with a corrupt weights file, uncaught, so that
#             GIMP prints the plug-in's error message and exits non-zero
#   exact     exact.scm, with BABL_TOLERANCE=0 (every process converts
#             pixels alike: see there)
# Each writes OUT/NAME.log and OUT/NAME.rc.  OUT must be absolute.
set -u

version=$1 plugin=$2 helper=$3 weights=$4 out=$5 fixtures=$6
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$out"
mkdir -p "$out/profile/plug-ins/colorize/weights" \
         "$out/profile/plug-ins/colorize-test-dump" "$out/dir-in" \
         "$out/vdir-in" "$out/hdir-in" "$out/hdir-hints" "$out/hodir-in"
cp "$plugin" "$out/profile/plug-ins/colorize/colorize"
cp "$weights"/cnn.weights "$weights"/resnet18.weights \
   "$out/profile/plug-ins/colorize/weights/"
cp "$helper" "$out/profile/plug-ins/colorize-test-dump/colorize-test-dump"

# The folder procedure's input: three good images and a corrupt one.
cp "$here/samples/castle.png" "$here/samples/church.png" \
   "$here/samples/hills.png" "$out/dir-in/"
printf '\211PNG\r\n\032\nthis is not really a PNG file' > "$out/dir-in/corrupt.png"
# The vividness checks' folder and colour-class weights.
cp "$here/samples/hills.png" "$out/vdir-in/"
cp "$weights/resnet18-class.weights" "$out/class.weights"
cp "$weights/cnn-regression.weights" "$out/regression.weights"
# Colour hints for the folder procedure: castle's fits, hills' has the
# wrong size, church has none.
cp "$here/samples/castle.png" "$here/samples/church.png" \
   "$here/samples/hills.png" "$out/hdir-in/"
cp "$here/samples/castle.png" "$out/hodir-in/"
cp "$fixtures/hints-castle.png" "$out/hdir-hints/castle.png"
cp "$fixtures/hints-wrong-size.png" "$out/hdir-hints/hills.png"
# Outputs keep their input's kind: the fixtures of FIXTURES/kinds.
mkdir -p "$out/kinds-in"
cp "$fixtures"/kinds/* "$out/kinds-in/"
# A corrupt weights file: the first kilobyte of a good one.
head -c 1024 "$weights/cnn.weights" > "$out/bad.weights"

prelude="$(cat "$here/compat-$version.scm")
(define t-samples \"$here/samples\")
(define t-out \"$out\")
(define t-bad-weights \"$out/bad.weights\")
(define t-class-weights \"$out/class.weights\")
(define t-regression-weights \"$out/regression.weights\")
(define t-fixtures \"$fixtures\")
(define t-dir-outputs '(\"castle.png\" \"church.png\" \"hills.png\"))
$(cat "$here/common.scm" "$here/hints-lib.scm")"
script="$prelude
$(cat "$here/checks.scm")"

badweights="(let* ((img (t-load \"$here/samples/hills.png\")))
  (t-colorize plug-in-colorize-cnn img (t-layer img) 0 1.0 \"$out/bad.weights\" -1.0))"

# Every plug-in process (file-png included) loads babl's fish cache at
# start, which costs seconds once GIMP has filled it: not what is tested.
export BABL_INHIBIT_CACHE=1
export COLORIZE_VERBOSE=1

gimp_batch () { # gimp_batch NAME SCHEME
  name=$1; shift
  start=$(date +%s)
  case $version in
    2.10)
      GIMP2_DIRECTORY="$out/profile" timeout "${GIMP_TEST_TIMEOUT:-900}" gimp-console-2.10 -i -d -f \
        -b "$1" -b '(gimp-quit 0)' > "$out/$name.log" 2>&1 ;;
    3.0)
      GIMP3_DIRECTORY="$out/profile" timeout "${GIMP_TEST_TIMEOUT:-900}" gimp-console-3.0 -i -d -f \
        --batch-interpreter=plug-in-script-fu-eval -b "$1" --quit \
        > "$out/$name.log" 2>&1 ;;
    *) echo "run-gimp.sh: unknown GIMP version $version" >&2; exit 2 ;;
  esac
  echo $? > "$out/$name.rc"
  echo "GIMP $version $name: $(( $(date +%s) - start )) s" > "$out/$name.time"
}

(cd "$out/dir-in" && ls -l --time-style=+%s && md5sum *) > "$out/dir-in.before"
gimp_batch session "$script"
gimp_batch badweights "$(cat "$here/compat-$version.scm")
$badweights"
(export BABL_TOLERANCE=0; gimp_batch exact "$prelude
$(cat "$here/exact.scm")")
(cd "$out/dir-in" && ls -l --time-style=+%s && md5sum *) > "$out/dir-in.after"
exit 0
