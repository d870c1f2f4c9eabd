#!/bin/sh
# nde-screenshot.sh [OUT.png] - a screenshot of GIMP 3.0 (in the Debian 13
# root of .ci/gimp3-root.sh) under Xvfb with colorize:resnet18 on a layer
# as a non-destructive filter, for the README's "Non-destructive filter"
# section.  The filter is appended through libgimp's GimpDrawableFilter
# (tests/gegl/nde-gimp3.c, test-colorize-nde-keep), as the GEGL Operation
# tool would; the Layers dock shows its fx mark, the canvas the result.
# Needs xvfb, imagemagick (import) and xdotool (to click the fx mark, so
# that the layer's filter list opens) on this machine.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
OUT=$ROOT/$BUILD/nde-screenshot
DEST=${1:-docs/nde-filter.png}
DISPLAY_NUM=${DISPLAY_NUM:-:94}

rm -rf "$OUT"
mkdir -p "$OUT/profile/plug-ins/test-colorize-nde"
# No welcome dialog over the canvas.
echo '(show-welcome-dialog no)' > "$OUT/profile/gimprc"

Xvfb "$DISPLAY_NUM" -screen 0 1280x860x24 > "$OUT/xvfb.log" 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 2

script="(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/castle.png\")))
               (drw (vector-ref (car (gimp-image-get-layers img)) 0)))
  (gimp-image-convert-rgb img)
  (gimp-image-scale img 400 600)
  (test-colorize-nde-keep RUN-NONINTERACTIVE img drw \"colorize:resnet18\" 1.2)
  (gimp-display-new img))"

.ci/gimp3-root.sh run sh -c "
  make -s BUILD='$BUILD/gimp3' gegl &&
  cc -O2 -Wall -Wextra -Werror -std=c11 \$(pkg-config --cflags gimp-3.0 | sed 's/-I/-isystem /g') \
    tests/gegl/nde-gimp3.c -o '$OUT/profile/plug-ins/test-colorize-nde/test-colorize-nde' \
    \$(pkg-config --libs gimp-3.0) &&
  XDG_DATA_HOME='$OUT/data' make -s BUILD='$BUILD/gimp3' install-gegl > /dev/null &&
  DISPLAY=$DISPLAY_NUM XDG_DATA_HOME='$OUT/data' GIMP3_DIRECTORY='$OUT/profile' \
    timeout ${GIMP_S:-100} gimp-3.0 -n --batch-interpreter=plug-in-script-fu-eval \
    -b '$script' > '$OUT/gimp.log' 2>&1 || true" &
gimp=$!
sleep ${WAIT_S:-60}
# The fx mark of the layer (where GIMP 3.0.4's default layout puts it in
# this screen): its popover lists the layer's filters.
DISPLAY=$DISPLAY_NUM xdotool mousemove 716 571 click 1 || true
sleep 4
import -display "$DISPLAY_NUM" -window root -crop 870x750+0+0 +repage "$OUT/screen.png"
wait $gimp || true
cp "$OUT/screen.png" "$DEST"
echo "$DEST"
