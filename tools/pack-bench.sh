#!/bin/sh
# tools/pack-bench.sh - issue 14's measurements of packed data sets
# (trainer/pack.h), for README.md's "Training data at scale" section.
#
#   tools/pack-bench.sh [--quick] [OUT]        (OUT default /work/packs)
#
# 1. OUT/train.pack: ../shared/data/train packed as it is; OUT/bench.pack:
#    the real photos of ../shared/data/train and ../shared/data/more/*/train
#    (11,833 files), each 9 times (pack --variants 9: as it is, and 8
#    crops to 80-100 % of each side, the odd ones flipped left-right):
#    about 106,000 records.  Made once; kept for later runs.
# 2. Three training runs with the same settings (ARCH, default resnet18;
#    batch 16, crop 128, STEPS steps, default 150, seed 1, all cores):
#      A  --data ../shared/data/train  --val ../shared/data/val   (folder)
#      B  --data OUT/train.pack        --val OUT/val.pack          (its pack)
#      C  --data OUT/bench.pack                                    (>= 100k)
#    For each: start time (process start to the "training ..." line: the
#    data loaded or mapped), peak resident memory (GNU time), images/s
#    (the trainer's own average, validation excluded), pack bytes read per
#    step.  A against B: the validation figures (psnr, colourfulness
#    ratio), which must agree within 0.02 dB and 0.01.
#
# --quick: the fixture photos (3 variants), cnn, crop 32, 6 steps, in a
# temporary folder: checks the script, not the figures.
#
# The figures mean something only on an otherwise idle machine: the
# script says "NOT VALID" when other `colorize-train train` processes
# run.  The first run of C reads bench.pack from disk; a second run reads
# it from the page cache (both printed when RUNS=2).
set -u
# babl's reference conversions in every process, so that the packs and the
# folder run decode the photos alike (babl otherwise picks conversion
# paths by speed, cached in ~/.cache/babl, which can flip int16 roundings)
export BABL_TOLERANCE=${BABL_TOLERANCE:-0}
BUILD=${BUILD:-build}
T=$BUILD/colorize-train
quick=0
if [ "${1:-}" = --quick ]; then
  quick=1
  shift
fi
if [ $quick -eq 1 ]; then
  OUT=${1:-$(mktemp -d)}
  TRAIN=tests/fixtures/images/train
  VAL=tests/fixtures/images/val
  DIRS=$TRAIN
  VARIANTS=3
  ARCH=${ARCH:-cnn}
  STEPS=${STEPS:-6}
  CROP=32
else
  OUT=${1:-/work/packs}
  TRAIN=../shared/data/train
  VAL=../shared/data/val
  DIRS="$TRAIN $(ls -d ../shared/data/more/*/train)"
  VARIANTS=9
  ARCH=${ARCH:-resnet18}
  STEPS=${STEPS:-150}
  CROP=128
fi
RUNS=${RUNS:-1}
THREADS=$(nproc)
[ -x "$T" ] || { echo "$0: $T missing (make)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "$0: needs GNU time (apt-get install time)" >&2; exit 1; }
mkdir -p "$OUT"
others=$(pgrep -f 'colorize-train train' | wc -l)
valid="valid: no other training ran"
[ "$others" -gt 0 ] && valid="NOT VALID: $others other colorize-train train processes were running"
# anything else busy (tests, GIMP, builds) spoils the figures as much
load=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$load" 'BEGIN { exit !(l > 0.5) }' && [ "$others" -eq 0 ] \
  && valid="NOT VALID: load average $load at the start (something else is running)"
echo "$valid"

# pack_once FILE ARGS...: packs unless FILE exists; prints the time taken
pack_once () {
  f=$1
  shift
  if [ -s "$f" ]; then
    echo "$f: already made"
    return
  fi
  /usr/bin/time -f "%e s, peak RSS %M KB" -o "$f.time" "$T" pack "$@" --out "$f" \
    --threads "$THREADS" 2>"$f.log" || { tail -n 3 "$f.log"; exit 1; }
  echo "$f: made in $(cat "$f.time") ($(tail -n 1 "$f.log"))"
}
pack_once "$OUT/train.pack" "$TRAIN"
pack_once "$OUT/val.pack" "$VAL" --full
# shellcheck disable=SC2086
pack_once "$OUT/bench.pack" $DIRS --variants $VARIANTS
for p in train bench; do
  "$T" info "$OUT/$p.pack" >"$OUT/$p.info"
  echo "$p.pack: $(sed -n 's/^records=//p' "$OUT/$p.info") records, $(sed -n 's/^bytes=//p' "$OUT/$p.info") bytes, $(sed -n 's/^bytes_per_record=//p' "$OUT/$p.info") a record, $(sed -n 's/^ratio=//p' "$OUT/$p.info") of the int16 cache"
done

# run NAME ARGS...: one training run; figures into OUT/NAME.*
run () {
  name=$1
  shift
  log=$OUT/$name.log
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$OUT/$name.time" "$T" train --arch "$ARCH" --batch 16 \
    --crop $CROP --steps "$STEPS" --seed 1 --threads "$THREADS" --workers 2 \
    --checkpoint-minutes 0 --out "$OUT/$name.weights" "$@" 2>&1 \
    | while IFS= read -r line; do
        printf '%s %s\n' "$(date +%s.%N)" "$line"
      done >"$log"
  start=$(awk -v t0="$t0" '$2 == "training" { printf "%.1f", $1 - t0; exit }' "$log")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/$name.time")
  ips=$(sed -n 's/.* s more): \([0-9.]*\) images\/s.*/\1/p' "$log")
  reads=$(sed -n 's/.*read [0-9]* pack records (.*, \([0-9.]*\) KB per step).*/\1/p' "$log")
  echo "$ips" >"$OUT/$name.ips"
  printf '%-2s start %5s s  peak RSS %5d MB  %6s images/s  %s\n' "$name" \
    "${start:-?}" "$(( ${rss:-0} / 1024 ))" "${ips:-?}" \
    "${reads:+pack read ${reads} KB per step}"
}
echo "runs: $ARCH, batch 16, crop $CROP, $STEPS steps, $THREADS threads"
run A --data "$TRAIN" --val "$VAL"
run B --data "$OUT/train.pack" --val "$OUT/val.pack"
i=0
while [ $i -lt "$RUNS" ]; do
  run C --data "$OUT/bench.pack"
  i=$((i + 1))
done

# A against B: the validation figures
fig () { "$T" info "$OUT/$1.weights" | sed -n "s/^  $2=//p"; }
pa=$(fig A val_psnr) pb=$(fig B val_psnr)
ca=$(awk -v c="$(fig A val_colorfulness)" -v t="$(fig A val_truth_colorfulness)" 'BEGIN { printf "%.4f", c / t }')
cb=$(awk -v c="$(fig B val_colorfulness)" -v t="$(fig B val_truth_colorfulness)" 'BEGIN { printf "%.4f", c / t }')
echo "validation: folder psnr $pa colourfulness ratio $ca; pack psnr $pb ratio $cb"
awk -v pa="$pa" -v pb="$pb" -v ca="$ca" -v cb="$cb" 'BEGIN {
  dp = pa - pb; if (dp < 0) dp = -dp; dc = ca - cb; if (dc < 0) dc = -dc
  printf "  difference %.4f dB, %.4f: %s\n", dp, dc, (dp <= 0.02 && dc <= 0.01) ? "within 0.02 dB and 0.01" : "OUTSIDE the limits" }'
awk -v n="$(sed -n 's/^records=//p' "$OUT/bench.info")" -v a="$(cat "$OUT/A.ips")" -v c="$(cat "$OUT/C.ips")" 'BEGIN {
  if (a > 0) printf "throughput: the %s-record pack at %.1f %% of the folder run\n", n, 100 * c / a }'
busy=$(ps -eo pcpu=,comm= | awk '$1 > 20 && $2 !~ /^(ps|awk)$/' | wc -l)
[ "$busy" -gt 0 ] && valid="NOT VALID: $busy other busy processes at the end"
echo "$valid"
