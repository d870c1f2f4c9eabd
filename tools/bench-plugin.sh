#!/bin/sh
# bench-plugin.sh [2.10|3.0|both] - issue 7's performance check: a
# 4000 x 3000 RGB photo through plug-in-colorize-resnet18 in batch mode at
# the default working size.  Limits: 3 s from procedure start to layer
# written, 1.5 GB peak memory in the plug-in process.
#
# The photo is a sample of tests/gimp/samples scaled up in GIMP (the time
# depends on the size, not on the content).  The plug-in reports its own
# phases and peak memory (VmHWM) when COLORIZE_VERBOSE is set.  Uses
# weights/resnet18.weights when present, else a random-weight file of the
# same architecture (same amount of computation).  GIMP 3.0 runs in the
# Debian 13 root of .ci/gimp3-root.sh.  Prints one line per GIMP and exits
# 1 when a limit is exceeded.
#
# Then the same photo with colour hints: a hints layer of 20 strokes
# (lines of colour, 40 pixels wide, 200 to 600 long, made
# with ImageMagick, about 2.5 % of the photo painted), at the same
# default settings, with the same limits.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
OUT=$ROOT/$BUILD/bench-plugin
LIMIT_S=3.0
LIMIT_KB=$((1536 * 1024))
which=${1:-both}

# run_one VERSION PLUGIN: runs where that GIMP is; writes $OUT/VERSION.log
run_one () {
  v=$1 plugin=$2
  prof=$OUT/profile-$v
  rm -rf "$prof"
  mkdir -p "$prof/plug-ins/colorize/weights"
  cp "$plugin" "$prof/plug-ins/colorize/colorize"
  cp "$OUT/weights/resnet18.weights" "$prof/plug-ins/colorize/weights/"
  case $v in
    2.10)
      load="(car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/landscape.png\" \"x\"))"
      layer="(vector-ref (cadr (gimp-image-get-layers img)) 0)"
      call="(plug-in-colorize-resnet18 RUN-NONINTERACTIVE img drw 0 1.0 \"\" -1.0 -1 FALSE)"
      hcall="(plug-in-colorize-resnet18 RUN-NONINTERACTIVE img drw 0 1.0 \"\" -1.0 hints FALSE)" ;;
    3.0)
      load="(car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/landscape.png\"))"
      layer="(vector-ref (car (gimp-image-get-layers img)) 0)"
      call="(plug-in-colorize-resnet18 RUN-NONINTERACTIVE img (vector drw) 0 1.0 \"\" -1.0 -1 FALSE)"
      hcall="(plug-in-colorize-resnet18 RUN-NONINTERACTIVE img (vector drw) 0 1.0 \"\" -1.0 hints FALSE)" ;;
  esac
  script="(let* ((img $load) (drw $layer))
    (gimp-image-convert-rgb img)
    (gimp-image-scale img 4000 3000)
    $call
    (let ((hints (car (gimp-file-load-layer RUN-NONINTERACTIVE img \"$OUT/hints-4000x3000.png\"))))
      (gimp-image-insert-layer img hints 0 0)
      $hcall)
    (gimp-image-delete img))"
  if [ "$v" = 2.10 ]; then
    GIMP2_DIRECTORY=$prof COLORIZE_VERBOSE=1 gimp-console-2.10 -i -d -f \
      -b "$script" -b '(gimp-quit 0)' > "$OUT/$v.log" 2>&1
  else
    GIMP3_DIRECTORY=$prof COLORIZE_VERBOSE=1 gimp-console-3.0 -i -d -f \
      --batch-interpreter=plug-in-script-fu-eval -b "$script" --quit \
      > "$OUT/$v.log" 2>&1
  fi
}

# Inside the Debian 13 root (called by the 3.0 branch below).
if [ "$which" = --inside ]; then
  run_one 3.0 "$2"
  exit 0
fi

mkdir -p "$OUT/weights"
make -s BUILD="$BUILD" plugin trainer > "$OUT/make.log" 2>&1 || { cat "$OUT/make.log"; exit 1; }
if [ -f weights/resnet18.weights ]; then
  cp weights/resnet18.weights "$OUT/weights/"
else
  "$BUILD/colorize-train" init --arch resnet18 --seed 1 \
    --out "$OUT/weights/resnet18.weights" > /dev/null || exit 1
  echo "# no weights/resnet18.weights: random weights (same computation)"
fi

# The 20 strokes: deterministic positions and colours.
awk 'BEGIN {
  srand (7);
  printf "-size 4000x3000 xc:none -fill none -strokewidth 40";
  for (i = 0; i < 20; i++) {
    x = 200 + int (rand () * 3600); y = 200 + int (rand () * 2600);
    len = 200 + int (rand () * 400); t = rand () * 6.2832;
    printf " -stroke \"rgb(%d,%d,%d)\" -draw \"line %d,%d %d,%d\"",
      40 + int (rand () * 180), 40 + int (rand () * 180),
      40 + int (rand () * 180), x, y, x + int (len * cos (t)),
      y + int (len * sin (t));
  }
}' > "$OUT/strokes.args"
eval convert $(cat "$OUT/strokes.args") "PNG32:$OUT/hints-4000x3000.png" ||
  { echo "could not make the hints image with ImageMagick"; exit 1; }

status=0
report () { # report VERSION [N: the Nth timing line, 1 plain, 2 with hints]
  line=$(grep "^colorize: ResNet18 4000x3000" "$OUT/$1.log" | sed -n "${2:-1}p")
  what="4000x3000 ResNet18, default working size"
  [ "${2:-1}" = 2 ] && what="$what, 20 strokes of colour hints"
  if [ -z "$line" ]; then
    echo "GIMP $1: $what: no timing line from the plug-in (see $OUT/$1.log)"
    status=1
    return
  fi
  secs=$(echo "$line" | sed 's/.*layer written \([0-9.]*\) s.*/\1/')
  kb=$(echo "$line" | sed 's/.*peak memory \([0-9]*\) kB.*/\1/')
  verdict=ok
  if awk "BEGIN { exit !($secs > $LIMIT_S) }" || [ "$kb" -gt "$LIMIT_KB" ]; then
    verdict="OVER LIMIT (3 s, 1.5 GB)"
    status=1
  fi
  echo "GIMP $1: $what: $secs s to layer written, peak $((kb / 1024)) MiB [$verdict] (${line#colorize: })"
}

if [ "$which" = 2.10 ] || [ "$which" = both ]; then
  run_one 2.10 "$ROOT/$BUILD/plugin-gimp2/colorize"
  report 2.10 1
  report 2.10 2
fi
if [ "$which" = 3.0 ] || [ "$which" = both ]; then
  B3=$BUILD/gimp3
  .ci/gimp3-root.sh run sh -c "make -s BUILD='$B3' plugin > '$OUT/make-gimp3.log' 2>&1 || { cat '$OUT/make-gimp3.log'; exit 1; }
     BUILD='$BUILD' tools/bench-plugin.sh --inside '$ROOT/$B3/plugin-gimp3/colorize'" || status=1
  report 3.0 1
  report 3.0 2
fi
exit $status
