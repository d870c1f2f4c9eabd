#!/bin/sh
# bench-plugin.sh [2.10|3.0|both] - the plug-in's performance checks: a
# 4000 x 3000 RGB photo (12 megapixels) through both filters in batch
# mode, in this order:
#   ResNet18 and CNN at the default working size: under 1 s from
#     procedure start to layer written (issue 16);
#   ResNet18 and CNN at working size 1024: under 2 s, peak memory of the
#     plug-in process under 400 MB (issue 16);
#   ResNet18 at the default working size with colour hints: a hints
#     layer of 20 strokes (lines of colour, 40 pixels wide, 200 to 600
#     long, made with ImageMagick, about 2.5 % of the photo painted):
#     under 3 s, 1.5 GB (issue 7).
#
# The photo is a sample of tests/gimp/samples scaled up in GIMP (the time
# depends on the size, not on the content).  The plug-in reports its own
# phases and peak memory (VmHWM; each call is a process of its own) when
# COLORIZE_VERBOSE is set.  Uses weights/*.weights when present, else
# random-weight files of the same architectures (same amount of
# computation).  GIMP 3.0 runs in the Debian 13 root of
# .ci/gimp3-root.sh.  Prints one line per call and exits 1 when a limit
# is exceeded.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
OUT=$ROOT/$BUILD/bench-plugin
which=${1:-both}

# run_one VERSION PLUGIN: runs where that GIMP is; writes $OUT/VERSION.log
run_one () {
  v=$1 plugin=$2
  prof=$OUT/profile-$v
  rm -rf "$prof"
  mkdir -p "$prof/plug-ins/colorize/weights"
  cp "$plugin" "$prof/plug-ins/colorize/colorize"
  cp "$OUT/weights/resnet18.weights" "$OUT/weights/cnn.weights" \
    "$prof/plug-ins/colorize/weights/"
  # call MODEL WORKING_SIZE HINTS: the filter's call in this GIMP
  case $v in
    2.10)
      load="(car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/landscape.png\" \"x\"))"
      layer="(vector-ref (cadr (gimp-image-get-layers img)) 0)"
      drws="drw" ;;
    3.0)
      load="(car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/landscape.png\"))"
      layer="(vector-ref (car (gimp-image-get-layers img)) 0)"
      drws="(vector drw)" ;;
  esac
  call () { echo "(plug-in-colorize-$1 RUN-NONINTERACTIVE img $drws $2 1.0 \"\" -1.0 $3 FALSE)"; }
  script="(let* ((img $load) (drw $layer))
    (gimp-image-convert-rgb img)
    (gimp-image-scale img 4000 3000)
    $(call resnet18 0 -1)
    $(call cnn 0 -1)
    $(call resnet18 1024 -1)
    $(call cnn 1024 -1)
    (let ((hints (car (gimp-file-load-layer RUN-NONINTERACTIVE img \"$OUT/hints-4000x3000.png\"))))
      (gimp-image-insert-layer img hints 0 0)
      $(call resnet18 0 hints))
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
for arch in resnet18 cnn; do
  if [ -f weights/$arch.weights ]; then
    cp weights/$arch.weights "$OUT/weights/"
  else
    "$BUILD/colorize-train" init --arch $arch --seed 1 \
      --out "$OUT/weights/$arch.weights" > /dev/null || exit 1
    echo "# no weights/$arch.weights: random weights (same computation)"
  fi
done

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
# report VERSION LABEL N WHAT LIMIT_S LIMIT_MB: the Nth timing line of
# the filter LABEL (ResNet18, CNN) in VERSION's log
report () {
  line=$(grep "^colorize: $2 4000x3000" "$OUT/$1.log" | sed -n "${3}p")
  what="4000x3000 $2, $4"
  if [ -z "$line" ]; then
    echo "GIMP $1: $what: no timing line from the plug-in (see $OUT/$1.log)"
    status=1
    return
  fi
  secs=$(echo "$line" | sed 's/.*layer written \([0-9.]*\) s.*/\1/')
  kb=$(echo "$line" | sed 's/.*peak memory \([0-9]*\) kB.*/\1/')
  verdict=ok
  if awk "BEGIN { exit !($secs > $5) }" || [ "$kb" -gt $(($6 * 1000000 / 1024)) ]; then
    verdict="OVER LIMIT ($5 s, $6 MB)"
    status=1
  fi
  echo "GIMP $1: $what: $secs s to layer written, peak $((kb / 1024)) MiB [$verdict] (${line#colorize: })"
}
report_all () {
  report "$1" ResNet18 1 "default working size" 1.0 1500
  report "$1" CNN 1 "default working size" 1.0 1500
  report "$1" ResNet18 2 "working size 1024" 2.0 400
  report "$1" CNN 2 "working size 1024" 2.0 400
  report "$1" ResNet18 3 "default working size, 20 strokes of colour hints" 3.0 1500
}

if [ "$which" = 2.10 ] || [ "$which" = both ]; then
  run_one 2.10 "$ROOT/$BUILD/plugin-gimp2/colorize"
  report_all 2.10
fi
if [ "$which" = 3.0 ] || [ "$which" = both ]; then
  B3=$BUILD/gimp3
  .ci/gimp3-root.sh run sh -c "make -s BUILD='$B3' plugin > '$OUT/make-gimp3.log' 2>&1 || { cat '$OUT/make-gimp3.log'; exit 1; }
     BUILD='$BUILD' tools/bench-plugin.sh --inside '$ROOT/$B3/plugin-gimp3/colorize'" || status=1
  report_all 3.0
fi
exit $status
