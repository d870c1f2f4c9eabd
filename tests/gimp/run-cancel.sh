#!/bin/sh
# run-cancel.sh VERSION PLUGIN DUMP-HELPER WEIGHTS-DIR GIF OUT
#
# The GIMP half of the cancel and GIF checks of tests/test_gimp.sh, for
# one GIMP version (2.10 or 3.0), run where that GIMP is (natively, or
# inside the Debian 13 root): makes a throw-away GIMP profile in
# OUT/profile holding the plug-in, the bundled weights from WEIGHTS-DIR
# and the test-colorize-dump helper, then runs one gimp-console session
# with every case of cancel.scm, the plug-in's cancel test hook on
# ($COLORIZE_TEST_CANCEL_FILE = OUT/cancel-at, which cancel.scm writes
# before each call; see "Cancelling a run" in plugin/README.md).  GIF is
# a GIF file made outside GIMP; the folder procedure colorizes a copy of
# it.  Writes OUT/session.log and OUT/session.rc.  OUT must be absolute.
set -u

version=$1 plugin=$2 helper=$3 weights=$4 gif=$5 out=$6
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$out"
mkdir -p "$out/profile/plug-ins/colorize/weights" \
         "$out/profile/plug-ins/colorize-test-dump" \
         "$out/gif-in" "$out/cancel-dir-in"
cp "$plugin" "$out/profile/plug-ins/colorize/colorize"
cp "$weights"/cnn.weights "$weights"/resnet18.weights \
   "$out/profile/plug-ins/colorize/weights/"
cp "$helper" "$out/profile/plug-ins/colorize-test-dump/colorize-test-dump"
cp "$gif" "$out/gif-in/"
cp "$here/samples/castle.png" "$here/samples/church.png" "$out/cancel-dir-in/"
: > "$out/cancel-at"

case $version in
  2.10) base_type=gimp-image-base-type ;;
  *)    base_type=gimp-image-get-base-type ;;
esac
script="$(cat "$here/compat-$version.scm")
(define (t-base-type img) ($base_type img))
(define t-samples \"$here/samples\")
(define t-out \"$out\")
(define t-cancel-file \"$out/cancel-at\")
(define t-gif-name \"$(basename "$gif")\")
$(cat "$here/cancel.scm")"

export BABL_INHIBIT_CACHE=1
export COLORIZE_TEST_CANCEL_FILE="$out/cancel-at"

listing () { (cd "$1" && ls -lA --time-style=+%s && md5sum *); }

listing "$out/cancel-dir-in" > "$out/cancel-dir-in.before"
listing "$out/gif-in" > "$out/gif-in.before"
start=$(date +%s)
case $version in
  2.10)
    GIMP2_DIRECTORY="$out/profile" timeout "${GIMP_TEST_TIMEOUT:-900}" gimp-console-2.10 -i -d -f \
      -b "$script" -b '(gimp-quit 0)' > "$out/session.log" 2>&1 ;;
  3.0)
    GIMP3_DIRECTORY="$out/profile" timeout "${GIMP_TEST_TIMEOUT:-900}" gimp-console-3.0 -i -d -f \
      --batch-interpreter=plug-in-script-fu-eval -b "$script" --quit \
      > "$out/session.log" 2>&1 ;;
  *) echo "run-cancel.sh: unknown GIMP version $version" >&2; exit 2 ;;
esac
echo $? > "$out/session.rc"
echo "GIMP $version cancel session: $(( $(date +%s) - start )) s" > "$out/session.time"
listing "$out/cancel-dir-in" > "$out/cancel-dir-in.after"
listing "$out/gif-in" > "$out/gif-in.after"
exit 0
