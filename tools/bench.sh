#!/bin/sh
# make bench: the C core and, where Debian's python3-torch is installed,
# the PyTorch reference modules, figure by figure in the same run on the
# same machine with the same thread count; each figure in a process of its
# own (so peak_mb is that figure's peak), each process the median of 5
# runs after a warm-up.  The C and PyTorch processes of a figure take
# turns, ROUNDS times (default 5): each side's ms is the median of its
# rounds, and ratio is the median of the rounds' own ratios (C ms over the
# PyTorch ms measured right after it), min and max beside it.  This VM's
# speed drifts by 10 to 50 % over minutes; pairing each C process with
# the PyTorch one next to it keeps a drift between rounds out of the
# ratio.
BUILD=${1:-build}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-5}
TRAINER="$BUILD/colorize-train"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} threads=$THREADS rounds=$ROUNDS date=$(date -u +%Y-%m-%d)"
echo "kernel: $("$TRAINER" bench --arch resnet18 --input-size 64 --runs 5 | sed -n 's/^bench kernel //p')"
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
[ $have_torch = 1 ] || echo "python3-torch not installed: C figures only"
field () { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
printf '%-9s %-8s %5s %10s %8s %8s %10s %8s %8s %6s %s\n' arch mode size C_ms C_gflops C_mb torch_ms t_gflops torch_mb ratio pairs
median () { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int ((NR + 1) / 2)] }'; }
# gflops of the median: the last round's, scaled by its time
scaled () { [ -n "$1" ] && awk "BEGIN { printf \"%.1f\", $1 * $2 / $3 }"; }
run () { # arch mode size
  flag=""; [ "$2" = train ] && flag="--train"
  cs="" ts="" rs="" c="" t=""
  for r in $(seq "$ROUNDS"); do
    c=$("$TRAINER" bench --arch "$1" --input-size "$3" $flag --threads "$THREADS" | grep '^bench arch')
    cs="$cs $(field "$c" ms)"
    [ $have_torch = 1 ] || continue
    t=$(/usr/bin/python3 tools/bench_torch.py --arch "$1" --size "$3" $flag --threads "$THREADS" | grep '^bench')
    ts="$ts $(field "$t" ms)"
    rs="$rs $(awk "BEGIN{printf \"%.4f\", $(field "$c" ms)/$(field "$t" ms)}")"
  done
  cms=$(median $cs); tms=$(median $ts)
  cgf=$(scaled "$(field "$c" gflops)" "$(field "$c" ms)" "$cms")
  tgf=""; [ -n "$tms" ] && tgf=$(scaled "$(field "$t" gflops)" "$(field "$t" ms)" "$tms")
  ratio=- pairs=""
  if [ -n "$tms" ]; then
    ratio=$(printf '%.2f' "$(median $rs)")
    pairs=$(printf '%s\n' $rs | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
  fi
  printf '%-9s %-8s %5s %10s %8s %8s %10s %8s %8s %6s %s\n' "$1" "$2" "$3" "$cms" "$cgf" \
    "$(field "$c" peak_mb)" "${tms:--}" "${tgf:--}" "$(field "$t" peak_mb)" "$ratio" "$pairs"
}
for arch in resnet18 cnn; do
  for size in ${BENCH_SIZES:-256 1024}; do run $arch forward $size; done
  run $arch train 128
done
# Per layer, the slowest operations of each network (the same medians'
# runs, per step), with effective GFLOP/s and their share of the sgemm rate
# measured in the same process (flops counted as the plain 3x3 convolution
# would do them, so folded kernels can exceed 100 %).
for arch in resnet18 cnn; do
  echo
  echo "per layer: $arch train batch 16, 128x128"
  "$TRAINER" bench --arch "$arch" --train --threads "$THREADS" --profile | sed -n 's/^profile //p' | head -14
  echo
  echo "per layer: $arch forward 1024x1024"
  "$TRAINER" bench --arch "$arch" --input-size 1024 --threads "$THREADS" --profile | sed -n 's/^profile //p' | head -12
done
