#!/bin/sh
# tools/calibrate.sh IN.weights OUT.weights [MIN_GAIN] - the chroma
# calibration of weights/README.md, on validation photos alone: the
# largest strength in tenths (0.5 .. 2.5) at which `colorize-train eval`
# on DATA (default ../shared/data/val) keeps the mean per-photo psnr at
# least MIN_GAIN dB (default 0.5, issue 17's val target) over the
# grayscale's; OUT is IN with its chroma_scale multiplied by that
# strength (tools/weightfile.py set).  Prints each strength tried.
# BUILD (build) and DATA may be set.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 IN.weights OUT.weights [MIN_GAIN]" >&2; exit 2; }
in=$1 out=$2 min=${3:-0.5}
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data/val}
bin=${BUILD:-$here/build}/colorize-train
[ -f "$in" ] || { echo "$0: $in: no such file" >&2; exit 1; }
[ -d "$data" ] || { echo "$0: $data: no such folder" >&2; exit 1; }
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
# mean (psnr - gray_psnr) over the photos at strength $1
gain () {
  "$bin" eval --weights "$in" --data "$data" --strength "$1" --csv "$csv" >/dev/null 2>&1 \
    || { echo "$0: eval of $in failed" >&2; exit 1; }
  awk -F, 'NR > 1 { s += $4 - $5; n++ } END { if (n) printf "%.4f\n", s / n; else print "nan" }' "$csv"
}
ok () { awk -v g="$1" -v m="$min" 'BEGIN { exit !(g + 0 >= m + 0) }'; }
s=10 best=
g=$(gain 1.0); echo "strength 1.0: psnr $g dB over gray"
if ok "$g"; then
  best=10
  while [ $s -lt 25 ]; do
    s=$((s + 1)); st=$(awk -v s=$s 'BEGIN { printf "%.1f", s / 10 }')
    g=$(gain "$st"); echo "strength $st: psnr $g dB over gray"
    ok "$g" || break
    best=$s
  done
else
  while [ $s -gt 5 ]; do
    s=$((s - 1)); st=$(awk -v s=$s 'BEGIN { printf "%.1f", s / 10 }')
    g=$(gain "$st"); echo "strength $st: psnr $g dB over gray"
    if ok "$g"; then best=$s; break; fi
  done
fi
[ -n "$best" ] || { echo "$0: no strength from 0.5 keeps psnr $min dB over gray" >&2; exit 1; }
old=$("$bin" info "$in" | sed -n 's/^  chroma_scale=//p')
old=${old:-1}
new=$(awk -v o="$old" -v b="$best" 'BEGIN { printf "%.6g", o * b / 10 }')
/usr/bin/python3 "$here/tools/weightfile.py" set "$in" "$out" "chroma_scale=$new" >/dev/null
echo "strength $(awk -v b=$best 'BEGIN { printf "%.1f", b / 10 }'): chroma_scale $old -> $new in $out"
