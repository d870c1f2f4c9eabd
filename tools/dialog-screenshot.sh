#!/bin/sh
# dialog-screenshot.sh [OUT.png] - a screenshot of the "Colorize with
# ResNet18" dialog of GIMP 3.0 (in the Debian 13 root of
# .ci/gimp3-root.sh) under Xvfb, for the README.  Uses weights/ when the
# trained weights are there, else random weights (the preview is then a
# meaningless tint: re-run once weights/ holds trained weights).
# Needs xvfb and imagemagick (import) on this machine.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
OUT=$ROOT/$BUILD/screenshot
DEST=${1:-docs/colorize-dialog.png}
DISPLAY_NUM=${DISPLAY_NUM:-:93}

rm -rf "$OUT"
mkdir -p "$OUT/profile/plug-ins/colorize/weights"
make -s BUILD="$BUILD" trainer
if [ -f weights/resnet18.weights ]; then
  cp weights/resnet18.weights "$OUT/profile/plug-ins/colorize/weights/"
else
  "$BUILD/colorize-train" init --arch resnet18 --seed 3 \
    --out "$OUT/profile/plug-ins/colorize/weights/resnet18.weights" > /dev/null
fi

Xvfb "$DISPLAY_NUM" -screen 0 1280x900x24 > "$OUT/xvfb.log" 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 2

script="(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/castle.png\")))
               (drw (vector-ref (car (gimp-image-get-layers img)) 0)))
  (gimp-image-scale img 320 480)
  (gimp-display-new img)
  (plug-in-colorize-resnet18 RUN-INTERACTIVE img (vector drw) 0 1.0 \"\" -1.0))"

# GIMP runs until the time-out; the picture is taken from here meanwhile.
.ci/gimp3-root.sh run sh -c "
  make -s BUILD='$BUILD/gimp3' plugin &&
  cp '$BUILD/gimp3/plugin-gimp3/colorize' '$OUT/profile/plug-ins/colorize/' &&
  DISPLAY=$DISPLAY_NUM GIMP3_DIRECTORY='$OUT/profile' timeout 90 gimp-3.0 -n \
    --batch-interpreter=plug-in-script-fu-eval -b '$script' \
    > '$OUT/gimp.log' 2>&1 || true" &
gimp=$!
sleep ${WAIT_S:-60}
# The dialog's own window when xwininfo finds it, else the whole screen.
win=$(xwininfo -display "$DISPLAY_NUM" -root -tree 2>/dev/null |
      awk '/"Colorize with ResNet18"/ { print $1; exit }')
import -display "$DISPLAY_NUM" -window "${win:-root}" "$OUT/screen.png"
wait $gimp || true
cp "$OUT/screen.png" "$DEST"
echo "$DEST"
