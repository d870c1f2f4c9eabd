#!/bin/sh
# demo.sh - `make demo`: colorizes the black-and-white samples of
# tests/gimp/samples through the installed plug-in (GIMP 3.0 when it is
# installed, else GIMP 2.10) in batch mode with plug-in-colorize-dir, and
# writes a before/after sheet whose path is the last line printed.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=$(pwd)/$BUILD/demo
SAMPLES=$(pwd)/tests/gimp/samples
MODEL=${MODEL:-resnet18}

if command -v gimp-console-3.0 > /dev/null 2>&1; then
  version=3.0
elif command -v gimp-console-2.10 > /dev/null 2>&1; then
  version=2.10
else
  echo "demo: no gimp-console-3.0 or gimp-console-2.10 found (run ./install.sh)" >&2
  exit 1
fi

rm -rf "$OUT"
mkdir -p "$OUT"
names=$(cd "$SAMPLES" && ls *.png)
scheme_names=$(for n in $names; do printf '"%s" ' "$n"; done)

case $version in
  2.10)
    load_layer='(define (d-load-layer img path) (car (gimp-file-load-layer RUN-NONINTERACTIVE img path)))'
    save='(define (d-save img path) (gimp-file-save RUN-NONINTERACTIVE img (car (gimp-image-get-active-drawable img)) path path))' ;;
  3.0)
    load_layer='(define (d-load-layer img path) (car (gimp-file-load-layer RUN-NONINTERACTIVE img path)))'
    save='(define (d-save img path) (gimp-file-save RUN-NONINTERACTIVE img path))' ;;
esac

script="$load_layer
$save
(plug-in-colorize-dir RUN-NONINTERACTIVE \"$MODEL\" \"$SAMPLES\" \"$OUT/colorized\" -1.0)
(let* ((cell 200)
       (names (list $scheme_names))
       (img (car (gimp-image-new (* 2 cell) (* (length names) cell) RGB)))
       (row 0))
  (for-each
    (lambda (name)
      (let ((before (d-load-layer img (string-append \"$SAMPLES/\" name)))
            (after (d-load-layer img (string-append \"$OUT/colorized/\" name))))
        (gimp-image-insert-layer img before 0 0)
        (gimp-layer-set-offsets before 4 (+ 4 (* row cell)))
        (gimp-image-insert-layer img after 0 0)
        (gimp-layer-set-offsets after (+ cell 4) (+ 4 (* row cell)))
        (set! row (+ row 1))))
    names)
  (gimp-image-flatten img)
  (d-save img \"$OUT/before-after.png\")
  (gimp-image-delete img))"

echo "demo: colorizing $(echo $names | wc -w) samples with $MODEL in GIMP $version (batch mode)"
if [ $version = 3.0 ]; then
  gimp-console-3.0 -i -d -f --batch-interpreter=plug-in-script-fu-eval \
    -b "$script" --quit > "$OUT/gimp.log" 2>&1 || true
else
  gimp-console-2.10 -i -d -f -b "$script" -b '(gimp-quit 0)' \
    > "$OUT/gimp.log" 2>&1 || true
fi
if [ ! -s "$OUT/before-after.png" ]; then
  grep -i -e "colorize" -e "error" "$OUT/gimp.log" >&2 || cat "$OUT/gimp.log" >&2
  echo "demo: failed (GIMP's output: $OUT/gimp.log)" >&2
  exit 1
fi
echo "$OUT/before-after.png"
