#!/bin/sh
# test_trainer.sh - colorize-train train, eval and apply on the fixture
# photos (tests/fixtures/images: 24 small photos, one of them grey, one
# truncated JPEG in train/; 7 in val/, one of them a PNG).
#
#   BUILD=build sh tests/test_trainer.sh
#
# Needs build/colorize-train and build/tests/test_colorize (which writes
# weight files with a known constant output).  About a minute.
BUILD=${BUILD:-build}
# Threads that wait sleep: the test shares small machines.
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export OMP_WAIT_POLICY
T=$BUILD/colorize-train
HELPER=$BUILD/tests/test_colorize
FIX=tests/fixtures/images
PROBE=tests/fixtures/trainer/probe.npy
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok () { pass=$((pass + 1)); echo "ok: $1"; }
bad () { fail=$((fail + 1)); echo "FAIL: $1"; }
check () {
  desc=$1
  shift
  if "$@"; then ok "$desc"; else bad "$desc"; fi
}
# expect DESC EXIT-CODE STDERR-PATTERN command...
expect () {
  desc=$1 code=$2 pat=$3
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -eq "$code" ] && grep -q -e "$pat" "$tmp/err"; then
    ok "$desc"
  else
    bad "$desc (exit $rc, expected $code; stderr: $(head -c 400 "$tmp/err"))"
  fi
}
# field NAME FILE: the value of NAME=... on the last line of FILE
field () { tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# num_lt A B: A < B (decimals)
num_lt () { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
# same_pixels A B: two image files of the same size whose samples differ by
# at most one level.  Two runs of the same apply can differ by that much:
# babl picks its conversion paths by timing them, caches the choice
# (~/.cache/babl/babl-fishes) and re-plans when it has none, so the last
# rounding to 8 bits can go the other way on a few pixels.
same_pixels () {
  [ -s "$1" ] && [ -s "$2" ] || return 1
  cmp -s "$1" "$2" && return 0
  pae=$(compare -metric PAE "$1" "$2" null: 2>&1 | sed -n 's/^[0-9.]* (\([0-9.e-]*\))$/\1/p')
  [ -n "$pae" ] && num_lt "$pae" 0.0040
}

if [ ! -x "$T" ] || [ ! -x "$HELPER" ]; then
  echo "FAIL: $T or $HELPER missing (run make first)"
  echo "0 passed, 1 failed"
  exit 1
fi

# ---- Bad folders and options: errors before any training -------------------
mkdir -p "$tmp/empty" "$tmp/useless" "$tmp/outdir" "$tmp/grayonly"
cp "$FIX/train/corrupt.jpg" "$FIX/train/gray_bsds_100007.png" "$tmp/useless/"
cp "$FIX/train/gray_bsds_100007.png" "$tmp/grayonly/"
base="--arch resnet18 --steps 2 --batch 2 --crop 16"
expect "missing data folder" 1 "nope: No such file or directory" \
  "$T" train $base --data "$tmp/nope" --out "$tmp/x.weights"
expect "data folder is a file" 1 "not a folder" \
  "$T" train $base --data "$PROBE" --out "$tmp/x.weights"
expect "empty data folder" 1 "contains no files" \
  "$T" train $base --data "$tmp/empty" --out "$tmp/x.weights"
expect "folder of unusable files" 1 "no usable image among 2 files (1 unreadable, 1 near-grayscale)" \
  "$T" train $base --data "$tmp/useless" --out "$tmp/x.weights"
check "the corrupt file is named" grep -q "unreadable: $tmp/useless/corrupt.jpg: corrupt JPEG" "$tmp/err"
expect "unwritable output" 1 "cannot write beside output" \
  "$T" train $base --data "$FIX/train" --out "$tmp/no/such/dir/x.weights"
expect "output is a folder" 1 "is a folder" \
  "$T" train $base --data "$FIX/train" --out "$tmp/outdir"
expect "missing validation folder" 1 "validation folder" \
  "$T" train $base --data "$FIX/train" --val "$tmp/nope" --out "$tmp/x.weights"
expect "unknown architecture" 2 "arch must be cnn or resnet18" \
  "$T" train --arch vgg --data "$FIX/train" --out "$tmp/x.weights"
expect "no architecture" 2 "arch cnn|resnet18 is required" \
  "$T" train --data "$FIX/train" --out "$tmp/x.weights"
expect "crop not a multiple of 8" 2 "multiple of 8" \
  "$T" train $base --crop 30 --data "$FIX/train" --out "$tmp/x.weights"
expect "batch 0" 2 "batch expects an integer" \
  "$T" train $base --batch 0 --data "$FIX/train" --out "$tmp/x.weights"
expect "steps and epochs" 2 "one of --epochs, --steps" \
  "$T" train $base --epochs 1 --data "$FIX/train" --out "$tmp/x.weights"
expect "bad learning rate" 2 "lr expects a number" \
  "$T" train $base --lr abc --data "$FIX/train" --out "$tmp/x.weights"
expect "unknown option" 2 "unknown option '--bogus'" \
  "$T" train $base --bogus 1 --data "$FIX/train" --out "$tmp/x.weights"
expect "missing checkpoint" 1 "checkpoint $tmp/none.ckpt" \
  "$T" train --resume "$tmp/none.ckpt" --data "$FIX/train" --out "$tmp/x.weights"
expect "a weight file is not a checkpoint" 1 "wrong magic" \
  "$T" train --resume "$PROBE" --data "$FIX/train" --out "$tmp/x.weights"
check "no output after the errors" test ! -e "$tmp/x.weights" -a ! -e "$tmp/x.csv"

# ---- A tiny run: the loss goes down ----------------------------------------
run="--arch resnet18 --data $FIX/train --val $FIX/val --steps 12 --batch 4
     --crop 32 --seed 7 --threads 2 --log-every 3 --val-every 6
     --checkpoint-minutes 0"
"$T" train $run --out "$tmp/a.weights" >"$tmp/a.out" 2>"$tmp/a.err"
check "tiny run succeeds" test $? -eq 0 -a -s "$tmp/a.weights"
check "left-out counts printed" grep -q "26 files, 23 images used, 1 left out as unreadable, 2 left out as near-grayscale" "$tmp/a.err"
check "the unreadable file named once" test "$(grep -c 'corrupt.jpg' "$tmp/a.err")" -eq 1
check "validation lines" test "$(grep -c 'val loss' "$tmp/a.err")" -eq 2
check "validation lines end with auc_rebal" \
  test "$(grep -cE 'val loss .* auc_rebal [0-9]+\.[0-9]{2} \(gray [0-9]+\.[0-9]{2}\)$' "$tmp/a.err")" -eq 2
first=$(sed -n 2p "$tmp/a.csv" | cut -d, -f3)
last=$(tail -n 1 "$tmp/a.csv" | cut -d, -f3)
echo "train loss: first rows $first, last $last"
check "loss goes down (first $first, last $last)" \
  awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < 0.7 * a) }'
check "CSV header" grep -q "^step,epoch,train_loss,val_loss,val_psnr,val_gray_psnr,lr,images_per_s,elapsed_s$" "$tmp/a.csv"
check "CSV rows at steps 3..12" test "$(cut -d, -f1 "$tmp/a.csv" | tr '\n' ' ')" = "step 3 6 9 12 "
if command -v gnuplot >/dev/null 2>&1; then
  check "loss plot written" test -s "$tmp/a.png"
fi
"$T" info "$tmp/a.weights" >"$tmp/a.info" 2>&1
for key in "command=colorize-train train" "data=$FIX/train" "images=23" \
           "steps=12" "epochs=2.087" "wall_time_s=" "val_psnr=" \
           "val_gray_psnr=" "val_local_gain=" "left_out_grayscale=2" \
           "val_auc_raw=" "val_auc_rebal=" "val_gray_auc_rebal="; do
  check "metadata has $key" grep -q -e "$key" "$tmp/a.info"
done

# ---- The rare-colour weights' uniform share (--rebalance) -------------------
# 1: every colour weighs the same, so the weighted loss is MSE bit for bit;
# the default 0.5 weighs rare colours more and trains otherwise.
"$T" train $run --out "$tmp/rb1.weights" --loss weighted --rebalance 1 --val-every 0 >/dev/null 2>&1
"$T" train $run --out "$tmp/rbm.weights" --val-every 0 >/dev/null 2>&1
"$T" train $run --out "$tmp/rbh.weights" --loss weighted --val-every 0 >/dev/null 2>&1
for w in rb1 rbm rbh; do
  "$T" forward --weights "$tmp/$w.weights" --input "$PROBE" --output "$tmp/$w.npy"
done
check "--loss weighted --rebalance 1 trains exactly as --loss mse" cmp -s "$tmp/rb1.npy" "$tmp/rbm.npy"
check "--loss weighted (rebalance 0.5) trains otherwise" sh -c "! cmp -s '$tmp/rbh.npy' '$tmp/rbm.npy'"
check "the rebalance share is in the weights' metadata" \
  sh -c "'$T' info '$tmp/rb1.weights' | grep -qx '  rebalance=1'"

# ---- Interrupted and resumed equals uninterrupted -----------------------------
"$T" forward --weights "$tmp/a.weights" --input "$PROBE" --output "$tmp/a.npy"
"$T" train $run --out "$tmp/b.weights" --stop-after 5 >/dev/null 2>"$tmp/b.err"
check "stopped run exits 130 with a checkpoint" test $? -eq 130 -a -s "$tmp/b.ckpt" -a ! -e "$tmp/b.weights"
# The checkpoint's settings text is a format (trainer/options.h): these
# keys in this order, these number formats (older checkpoints resume).
tl=$(od -An -tu4 -j12 -N4 "$tmp/b.ckpt" | tr -d ' ')
ckpt_text=$(dd if="$tmp/b.ckpt" bs=1 skip=16 count="$tl" 2>/dev/null \
  | grep -v -e '^elapsed=' -e '^data_hash=' | tr '\n' ' ')
check "the checkpoint's settings text, key by key" test "$ckpt_text" = \
  "arch=resnet18 batch=4 crop=32 seed=7 lr=0.001 schedule=cosine warmup=0 weight_decay=0 loss=mse total_steps=12 epochs_requested=0 minutes_requested=0 cache_side=160 gray_threshold=3 working_size=256 val_every=6 encoder_lr=1 teacher= teacher_share=0.8 rebalance=0.5 rebalance_below_l=0 perceptual=0 perceptual_net= adversarial=0 adversarial_lr=0.0002 adversarial_from=100 adversarial_pool=1 step=5 images=23 "
expect "resume with another batch size" 2 "batch differs" \
  "$T" train --resume "$tmp/b.ckpt" --batch 8 --data "$FIX/train" --out "$tmp/b.weights"
expect "resume on other data" 1 "was made on 23 images" \
  "$T" train --resume "$tmp/b.ckpt" --data "$FIX/val" --out "$tmp/b.weights"
size=$(wc -c <"$tmp/b.ckpt")
head -c $((size / 2)) "$tmp/b.ckpt" >"$tmp/half.ckpt"
expect "a truncated checkpoint is refused as damaged" 1 "half.ckpt: checksum mismatch (damaged file)" \
  "$T" train --resume "$tmp/half.ckpt" --data "$FIX/train" --out "$tmp/x.weights"
cp "$tmp/b.ckpt" "$tmp/flip.ckpt"
printf '\377' | dd of="$tmp/flip.ckpt" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
expect "a checkpoint with a changed byte is refused as damaged" 1 "flip.ckpt: checksum mismatch" \
  "$T" train --resume "$tmp/flip.ckpt" --data "$FIX/train" --out "$tmp/x.weights"
"$T" train --resume "$tmp/b.ckpt" --data "$FIX/train" --val "$FIX/val" \
  --threads 2 --checkpoint-minutes 0 --out "$tmp/b.weights" >/dev/null 2>"$tmp/b2.err"
check "resumed run finishes" test $? -eq 0 -a -s "$tmp/b.weights"
"$T" forward --weights "$tmp/b.weights" --input "$PROBE" --output "$tmp/b.npy"
check "resumed weights equal uninterrupted ones" cmp -s "$tmp/a.npy" "$tmp/b.npy"

# The same with a real SIGINT in the middle of the run.
"$T" train $run --out "$tmp/c.weights" >/dev/null 2>"$tmp/c.err" &
pid=$!
i=0
while [ $i -lt 600 ] && ! grep -q "step 1/12" "$tmp/c.err" 2>/dev/null; do
  sleep 0.1
  i=$((i + 1))
done
kill -INT $pid
wait $pid
rc=$?
check "SIGINT: exit 130 and a checkpoint (exit $rc)" test $rc -eq 130 -a -s "$tmp/c.ckpt"
check "SIGINT: says how to resume" grep -q "continue with --resume $tmp/c.ckpt" "$tmp/c.err"
"$T" train --resume "$tmp/c.ckpt" --data "$FIX/train" --val "$FIX/val" \
  --threads 2 --checkpoint-minutes 0 --out "$tmp/c.weights" >/dev/null 2>&1
"$T" forward --weights "$tmp/c.weights" --input "$PROBE" --output "$tmp/c.npy"
check "after SIGINT and resume: weights equal uninterrupted ones" cmp -s "$tmp/a.npy" "$tmp/c.npy"

# ---- eval on known cases -------------------------------------------------------
"$HELPER" --write-weights resnet18 "$tmp/zero.weights" 0 0
"$HELPER" --write-weights resnet18 "$tmp/tint.weights" 20 -10
"$T" eval --weights "$tmp/zero.weights" --data "$FIX/val" >"$tmp/zero.out" 2>"$tmp/zero.err"
check "eval exits 0" test $? -eq 0
check "eval last line format" grep -qE '^images=7 psnr=[0-9]+\.[0-9]{2} gray_psnr=[0-9]+\.[0-9]{2} colorfulness=[0-9]+\.[0-9]{2} truth_colorfulness=[0-9]+\.[0-9]{2} local_gain=-?[0-9]\.[0-9]{3} auc_raw=[0-9]+\.[0-9]{2} auc_rebal=[0-9]+\.[0-9]{2} gray_auc_raw=[0-9]+\.[0-9]{2} gray_auc_rebal=[0-9]+\.[0-9]{2}$' "$tmp/zero.out"
check "eval per-image lines end with auc_raw and auc_rebal" \
  test "$(grep -cE '^tests/.* local_gain=-?[0-9]\.[0-9]{3} auc_raw=[0-9]+\.[0-9]{2} auc_rebal=[0-9]+\.[0-9]{2}$' "$tmp/zero.out")" -eq 7
tail -n 1 "$tmp/zero.out"
check "zero output: psnr equals gray_psnr" test "$(field psnr "$tmp/zero.out")" = "$(field gray_psnr "$tmp/zero.out")"
check "zero output: local_gain 0" test "$(field local_gain "$tmp/zero.out")" = "0.000"
check "zero output: colorfulness 0" test "$(field colorfulness "$tmp/zero.out")" = "0.00"
check "truth colorfulness of the val photos (31.84)" test "$(field truth_colorfulness "$tmp/zero.out")" = "31.84"
check "gray baseline PSNR of the val photos (24.50)" test "$(field gray_psnr "$tmp/zero.out")" = "24.50"
check "zero output: auc equals the gray baseline's" \
  test "$(field auc_raw "$tmp/zero.out") $(field auc_rebal "$tmp/zero.out")" = \
       "$(field gray_auc_raw "$tmp/zero.out") $(field gray_auc_rebal "$tmp/zero.out")"
check "gray baseline auc of the val photos (89.74, 82.81)" \
  test "$(field gray_auc_raw "$tmp/zero.out") $(field gray_auc_rebal "$tmp/zero.out")" = "89.74 82.81"

"$T" eval --weights "$tmp/zero.weights" --data "$tmp/grayonly" >"$tmp/gray.out" 2>/dev/null
check "grey photo: truth colorfulness 0, identical images give psnr inf" \
  test "$(tail -n 1 "$tmp/gray.out" | sed 's/ auc_raw=.*//')" = "images=1 psnr=inf gray_psnr=inf colorfulness=0.00 truth_colorfulness=0.00 local_gain=0.000"
# babl gives neutral greys a,b of up to about 1e-4, not 0: such pixels
# miss the threshold t = 0 alone (1/151 of the figure)
check "grey photo: auc as the gray baseline's" \
  test "$(field auc_raw "$tmp/gray.out") $(field auc_rebal "$tmp/gray.out")" = \
       "$(field gray_auc_raw "$tmp/gray.out") $(field gray_auc_rebal "$tmp/gray.out")"
check "grey photo: auc within 1/151 of 100" \
  awk -v v="$(field auc_rebal "$tmp/gray.out")" 'BEGIN { exit !(v != "" && v + 0 >= 99.33) }'

"$T" eval --weights "$tmp/tint.weights" --data "$FIX/val" --csv "$tmp/tint.csv" \
  --sheet "$tmp/tint.png" --sheet-rows 3 >"$tmp/tint.out" 2>/dev/null
tail -n 1 "$tmp/tint.out"
check "uniform tint: local_gain 0" test "$(field local_gain "$tmp/tint.out")" = "0.000"
check "uniform tint: colourful" num_lt 5 "$(field colorfulness "$tmp/tint.out")"
check "eval --csv: header and 7 rows" test "$(wc -l <"$tmp/tint.csv")" -eq 8
check "eval --csv: auc columns at the end" \
  grep -q ',local_gain,loss,auc_raw,auc_rebal,gray_auc_raw,gray_auc_rebal$' "$tmp/tint.csv"
check "eval --sheet: a PNG" test "$(head -c 4 "$tmp/tint.png" | od -An -c | tr -d ' ')" = "211PNG"

"$T" eval --weights "$tmp/a.weights" --data "$FIX/val" >"$tmp/ae.out" 2>/dev/null
vpsnr=$(sed -n 's/.*val_psnr=\([0-9.]*\).*/\1/p' "$tmp/a.info")
check "eval of the tiny run matches its final validation ($vpsnr)" \
  awk -v a="$vpsnr" -v b="$(field psnr "$tmp/ae.out")" 'BEGIN { d = a - b; exit !(d < 0.0051 && d > -0.0051) }'
vauc=$(sed -n 's/.*val_auc_rebal=\([0-9.]*\).*/\1/p' "$tmp/a.info")
check "eval's auc_rebal matches the final validation's ($vauc)" \
  awk -v a="$vauc" -v b="$(field auc_rebal "$tmp/ae.out")" 'BEGIN { d = a - b; exit !(a != "" && d < 0.0051 && d > -0.0051) }'

# The shipped weights: auc figures in 0..100, and the gray baseline's the
# same whichever weights are evaluated (it depends on the photos alone).
for w in resnet18 cnn; do
  "$T" eval --weights "weights/$w.weights" --data "$FIX/val" >"$tmp/$w.out" 2>/dev/null
  check "eval of weights/$w.weights exits 0" test $? -eq 0
  tail -n 1 "$tmp/$w.out"
  for key in auc_raw auc_rebal gray_auc_raw gray_auc_rebal; do
    v=$(field $key "$tmp/$w.out")
    check "$w: $key=$v within 0..100" \
      awk -v v="$v" 'BEGIN { exit !(v != "" && v + 0 >= 0 && v + 0 <= 100) }'
  done
  check "$w: gray_auc_rebal as with zero output" \
    test "$(field gray_auc_rebal "$tmp/$w.out")" = "$(field gray_auc_rebal "$tmp/zero.out")"
done
expect "eval without --weights" 2 "weights W is required" "$T" eval --data "$FIX/val"
expect "eval with a bad weight file" 1 "probe.npy" "$T" eval --weights "$PROBE" --data "$FIX/val"
expect "eval on an empty folder" 1 "contains no files" "$T" eval --weights "$tmp/zero.weights" --data "$tmp/empty"

# ---- apply keeps L ----------------------------------------------------------------
img=$FIX/val/bsds_97010.jpg
"$T" apply --weights "$tmp/a.weights" "$img" "$tmp/out.png" --verify >"$tmp/apply.out" 2>&1
check "apply writes a PNG" test $? -eq 0 -a -s "$tmp/out.png"
cat "$tmp/apply.out"
check "apply keeps L within 8-bit rounding" num_lt "$(sed -n 's/.*max_dL=\([0-9.]*\).*/\1/p' "$tmp/apply.out")" 0.5
"$T" apply --weights "$tmp/tint.weights" --strength 4 "$img" "$tmp/out2.png" --verify >"$tmp/apply2.out" 2>&1
cat "$tmp/apply2.out"
check "apply keeps L out of gamut too (strength 4)" num_lt "$(sed -n 's/.*max_dL=\([0-9.]*\).*/\1/p' "$tmp/apply2.out")" 0.5
expect "apply to an unknown format" 1 "no GEGL saver" \
  "$T" apply --weights "$tmp/a.weights" "$img" "$tmp/out.xyz"
expect "apply on a corrupt file" 1 "corrupt JPEG" \
  "$T" apply --weights "$tmp/a.weights" "$FIX/train/corrupt.jpg" "$tmp/out3.png"

# ---- one name per setting: --working-size (eval and apply also take --size) ----
"$T" eval --weights "$tmp/a.weights" --data "$FIX/val" --working-size 64 >"$tmp/ws1.out" 2>&1
"$T" eval --weights "$tmp/a.weights" --data "$FIX/val" --size 64 >"$tmp/ws2.out" 2>&1
check "eval --working-size 64 = eval --size 64 (the old spelling)" \
  test -n "$(tail -n 1 "$tmp/ws1.out")" -a "$(tail -n 1 "$tmp/ws1.out")" = "$(tail -n 1 "$tmp/ws2.out")"
"$T" eval --weights "$tmp/a.weights" --data "$FIX/val" >"$tmp/ws3.out" 2>&1
check "eval --working-size changes what is measured" \
  test "$(tail -n 1 "$tmp/ws1.out")" != "$(tail -n 1 "$tmp/ws3.out")"
"$T" apply --weights "$tmp/a.weights" "$FIX/val/bsds_97010.jpg" "$tmp/ws1.png" --working-size 64 >/dev/null 2>&1
"$T" apply --weights "$tmp/a.weights" "$FIX/val/bsds_97010.jpg" "$tmp/ws2.png" --size 64 >/dev/null 2>&1
check "apply --working-size 64 = apply --size 64 (the old spelling)" \
  same_pixels "$tmp/ws1.png" "$tmp/ws2.png"
expect "bench --size, the old spelling of --input-size, is checked as it" 2 \
  "size expects an integer in 8..8192 (a multiple of 8), got '12'" "$T" bench --size 12
expect "an option error names the option, the range and the value" 2 \
  "warmup expects an integer in 0..1000000000, got '-3'" \
  "$T" train --warmup -3 --data "$FIX/train" --out "$tmp/x.weights"

# ---- init --from: a warm start across heads ----------------------------------
"$T" init --arch cnn --seed 3 --out "$tmp/cnn-ab.weights" >/dev/null 2>&1
"$T" init --arch cnn --head class --seed 4 --from "$tmp/cnn-ab.weights" \
  --out "$tmp/cnn-class.weights" >"$tmp/from.out" 2>&1
check "init --from copies the 22 tensors both heads share" \
  grep -q "22 of 25 tensors copied" "$tmp/from.out"
check "init --from names the ones it could not copy" \
  grep -q "conv12.weight keeps its fresh initialization (another shape)" "$tmp/from.out"
expect "init --from a model of another architecture" 1 "is a resnet18 model: expected cnn" \
  "$T" init --arch cnn --head class --from weights/resnet18.weights --out "$tmp/x.weights"

# ---- bench --weights: a weight file's own network, forward passes ----------
"$T" bench --weights "$tmp/cnn-class.weights" --input-size 32 >"$tmp/bw.out" 2>&1
check "bench --weights times the file's network, its class head named" \
  grep -q "^bench arch=cnn weights=$tmp/cnn-class.weights (colour classes) mode=forward size=32 ms=" "$tmp/bw.out"
expect "bench --weights with --train is refused" 2 "takes random weights" \
  "$T" bench --weights "$tmp/cnn-class.weights" --train
expect "bench --weights with --arch is refused" 2 "the file says the network" \
  "$T" bench --weights "$tmp/cnn-class.weights" --arch resnet18
expect "bench --weights of a missing file names it" 1 "$tmp/none.weights" \
  "$T" bench --weights "$tmp/none.weights"

# ---- init --context-hidden: the global context with a hidden layer -------------
"$T" init --arch resnet18 --head class --context-hidden 8 \
  --from weights/resnet18.weights --out "$tmp/ctx8.weights" >"$tmp/ctx8.out" 2>&1
check "init --context-hidden names the tensors it adds" \
  grep -q "context.fc2.weight keeps its fresh initialization (not in the file)" "$tmp/ctx8.out"
"$T" info "$tmp/ctx8.weights" >"$tmp/ctx8.info" 2>&1
check "init --context-hidden 8 writes context=8" grep -qx "  context=8" "$tmp/ctx8.info"
# (the shipped file's chroma_scale as ctx8's strength: init writes fresh metadata)
ship_scale=$("$T" info weights/resnet18.weights 2>/dev/null | sed -n 's/^  chroma_scale=//p')
"$T" apply --weights weights/resnet18.weights "$FIX/val/$(ls "$FIX/val" | head -1)" \
  "$tmp/ctx-a.png" --temperature 1 --views 1 >/dev/null 2>&1
# (and its chroma knee, set on a copy)
ship_knee=$("$T" info weights/resnet18.weights 2>/dev/null | sed -n 's/^  chroma_knee=//p')
ship_slope=$("$T" info weights/resnet18.weights 2>/dev/null | sed -n 's/^  chroma_knee_slope=//p')
check "the shipped resnet18 has a chroma knee" test -n "$ship_knee" -a -n "$ship_slope"
/usr/bin/python3 tools/weightfile.py set "$tmp/ctx8.weights" "$tmp/ctx8k.weights" \
  "chroma_knee=$ship_knee" "chroma_knee_slope=$ship_slope" >/dev/null
"$T" apply --weights "$tmp/ctx8k.weights" "$FIX/val/$(ls "$FIX/val" | head -1)" \
  "$tmp/ctx-b.png" --temperature 1 --strength "$ship_scale" >/dev/null 2>&1
check "its zero output weights give what the file it came from gives (init writes fresh metadata, so the decoding is given)" \
  same_pixels "$tmp/ctx-a.png" "$tmp/ctx-b.png"
expect "init --context-hidden for the cnn" 2 "are for --arch resnet18" \
  "$T" init --arch cnn --context-hidden 8 --out "$tmp/x.weights"
expect "init --context-hidden 1" 2 "context-hidden" \
  "$T" init --arch resnet18 --context-hidden 1 --out "$tmp/x.weights"

# ---- train --rebalance-below-l: dark pixels weigh 1 in the class loss -------------
"$T" init --arch cnn --head class --seed 3 --out "$tmp/dk.weights" >/dev/null 2>&1
dk_train () { # OUT [OPTIONS...]: 3 steps of the class loss, the train_loss column
  o=$1; shift
  "$T" train --arch cnn --data "$FIX/train" --out "$tmp/$o.weights" \
    --init "$tmp/dk.weights" --loss class --steps 3 --batch 2 --crop 32 \
    --threads 1 --workers 1 --log-every 1 --seed 5 "$@" >/dev/null 2>&1
  cut -d, -f3 "$tmp/$o.csv" | sed -n '2,4p' > "$tmp/$o.loss"
}
dk_train dk-none --rebalance 1.0
dk_train dk-all --rebalance-below-l 100
dk_train dk-off
dk_train dk-half --rebalance-below-l 50
check "--rebalance-below-l 100 (every pixel weighs 1) trains as --rebalance 1.0 (no rebalancing)" \
  sh -c "test -s '$tmp/dk-all.loss' && cmp -s '$tmp/dk-all.loss' '$tmp/dk-none.loss'"
check "--rebalance-below-l 50 changes the class loss" \
  sh -c "test -s '$tmp/dk-half.loss' && ! cmp -s '$tmp/dk-half.loss' '$tmp/dk-off.loss'"
check "--rebalance-below-l is recorded in the metadata" \
  sh -c "'$T' info '$tmp/dk-half.weights' 2>/dev/null | grep -qx '  rebalance_below_l=50'"
expect "--rebalance-below-l with --loss mse" 2 "is for --loss class, not --loss mse" \
  "$T" train --arch cnn --data "$FIX/train" --out "$tmp/x.weights" --steps 1 \
    --batch 2 --crop 32 --rebalance-below-l 40

# ---- train --init keeps the init's decoding calibration --------------------------
"$T" train --arch resnet18 --data "$FIX/train" --out "$tmp/cal.weights" \
  --init weights/resnet18.weights --loss class --steps 2 --batch 2 --crop 32 \
  --threads 1 --workers 1 >/dev/null 2>&1
"$T" info "$tmp/cal.weights" >"$tmp/cal.info" 2>&1
check "train --init carries the init's temperature over" grep -q "^  temperature=1$" "$tmp/cal.info"
init_scale=$("$T" info weights/resnet18.weights 2>/dev/null | sed -n 's/^  chroma_scale=//p')
check "the shipped resnet18 has a chroma_scale to carry over" test -n "$init_scale"
check "train --init carries the init's chroma_scale over" grep -qx "  chroma_scale=$init_scale" "$tmp/cal.info"
check "the shipped resnet18 averages two views" sh -c "'$T' info weights/resnet18.weights 2>/dev/null | grep -qx '  views=2'"
check "train --init carries the init's views over" grep -qx "  views=2" "$tmp/cal.info"
check "train --init carries the init's chroma knee over" \
  sh -c "grep -qx '  chroma_knee=$ship_knee' '$tmp/cal.info' && grep -qx '  chroma_knee_slope=$ship_slope' '$tmp/cal.info'"
expect "eval --views 3" 2 "views expects an integer in 1..2, got '3'" \
  "$T" eval --weights weights/resnet18.weights --data "$FIX/val" --views 3
"$T" apply --weights weights/resnet18.weights "$FIX/val/$(ls "$FIX/val" | head -1)" \
  "$tmp/v1.png" --views 1 >/dev/null 2>&1
"$T" apply --weights weights/resnet18.weights "$FIX/val/$(ls "$FIX/val" | head -1)" \
  "$tmp/v2.png" >/dev/null 2>&1
differ () { [ -s "$1" ] && [ -s "$2" ] && ! same_pixels "$1" "$2"; }
check "apply --views 1 differs from the shipped file's two views (by more than a level)" \
  differ "$tmp/v1.png" "$tmp/v2.png"

# ---- train --teacher: distillation from a colour-class model ---------------------
R18T=weights/resnet18.weights
dist="--data $FIX/train --init $tmp/cnn-class.weights --loss class --teacher $R18T \
  --steps 4 --batch 2 --crop 32 --threads 1 --workers 1 --log-every 1 --seed 2"
"$T" train $dist --out "$tmp/d.weights" >/dev/null 2>"$tmp/d.err"
check "a distilled run succeeds" test $? -eq 0 -a -s "$tmp/d.weights"
check "a distilled run names its teacher" \
  grep -q "distilling from $R18T (a resnet18 model): its share of each pixel's target 0.8" "$tmp/d.err"
"$T" train $dist --teacher-share 0 --out "$tmp/d0.weights" >/dev/null 2>"$tmp/d0.err"
"$T" train --data "$FIX/train" --init "$tmp/cnn-class.weights" --loss class --steps 4 \
  --batch 2 --crop 32 --threads 1 --workers 1 --log-every 1 --seed 2 \
  --out "$tmp/dn.weights" >/dev/null 2>"$tmp/dn.err"
l_d=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\).*/\1/p' "$tmp/d.err")
l_0=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\).*/\1/p' "$tmp/d0.err")
l_n=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\).*/\1/p' "$tmp/dn.err")
check "teacher share 0 trains as no teacher (first loss $l_0 = $l_n)" \
  test -n "$l_0" -a "$l_0" = "$l_n"
check "the teacher changes the loss (first loss $l_d, without $l_n)" \
  test -n "$l_d" -a "$l_d" != "$l_n"
"$T" train $dist --out "$tmp/e.weights" --stop-after 2 >/dev/null 2>&1
check "a distilled run stops with a checkpoint" test -s "$tmp/e.ckpt"
expect "resume with another --teacher-share" 2 "teacher-share differs" \
  "$T" train --resume "$tmp/e.ckpt" --teacher-share 0.5 --data "$FIX/train" --out "$tmp/e.weights"
"$T" train --resume "$tmp/e.ckpt" --data "$FIX/train" --threads 1 --out "$tmp/e.weights" \
  >/dev/null 2>"$tmp/e2.err"
check "the resumed distilled run names its teacher" grep -q "distilling from $R18T" "$tmp/e2.err"
"$T" forward --weights "$tmp/d.weights" --input "$PROBE" --output "$tmp/d.npy"
"$T" forward --weights "$tmp/e.weights" --input "$PROBE" --output "$tmp/e.npy"
check "a resumed distilled run equals the uninterrupted one" cmp -s "$tmp/d.npy" "$tmp/e.npy"
expect "a teacher without colour classes" 2 "colour classes (0 bins) are not the student's (263 bins)" \
  "$T" train $dist --teacher "$tmp/cnn-ab.weights" --out "$tmp/x.weights"
expect "a teacher for an MSE student" 2 "needs a colour-class student" \
  "$T" train --arch cnn --data "$FIX/train" --teacher "$R18T" --steps 1 --batch 2 \
  --crop 32 --out "$tmp/x.weights"
expect "a teacher file that is not there" 2 "teacher: .*nothere.weights" \
  "$T" train $dist --teacher "$tmp/nothere.weights" --out "$tmp/x.weights"

# ---- train --perceptual: the ImageNet features' term ------------------------------
# Arrays of the real shapes (small values; the loss's numbers are pinned by
# tests/test_perceptual.c against PyTorch): here, that the trainer adds
# X times the term to the class loss, keeps it across a resume, and says
# what is wrong with bad options.
IMNET="$tmp/imagenet"
mkdir -p "$IMNET"
/usr/bin/python3 - "$IMNET" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(5)
for name, shape in [("conv1", (64, 3, 7, 7))] + \
        [("layer1.%d.conv%d" % (b, c), (64, 64, 3, 3)) for b in (0, 1) for c in (1, 2)] + \
        [("layer2.0.conv1", (128, 64, 3, 3)), ("layer2.0.conv2", (128, 128, 3, 3)),
         ("layer2.0.downsample.0", (128, 64, 1, 1)), ("layer2.1.conv1", (128, 128, 3, 3)),
         ("layer2.1.conv2", (128, 128, 3, 3))]:
    fan = shape[1] * shape[2] * shape[3]
    np.save("%s/%s.weight.npy" % (sys.argv[1], name),
            (rng.standard_normal(shape) * np.sqrt(2.0 / fan)).astype("<f4"))
    np.save("%s/%s.bias.npy" % (sys.argv[1], name),
            (rng.standard_normal(shape[0]) * 0.1).astype("<f4"))
PY
perc="--data $FIX/train --init $tmp/cnn-class.weights --loss class --steps 4 \
  --batch 2 --crop 32 --threads 1 --workers 1 --log-every 1 --seed 2"
"$T" train $perc --perceptual 1 --perceptual-net "$IMNET" --out "$tmp/p1.weights" \
  >/dev/null 2>"$tmp/p1.err"
check "a run with the perceptual term succeeds" test $? -eq 0 -a -s "$tmp/p1.weights"
check "it says so" grep -q "perceptual term x 1, ImageNet features from $IMNET" "$tmp/p1.err"
"$T" train $perc --perceptual 2 --perceptual-net "$IMNET" --out "$tmp/p2.weights" \
  >/dev/null 2>"$tmp/p2.err"
l_n=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\).*/\1/p' "$tmp/dn.err")
l_1=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\) (perceptual \([0-9.]*\)).*/\1 \2/p' "$tmp/p1.err")
l_2=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\) (perceptual \([0-9.]*\)).*/\1 \2/p' "$tmp/p2.err")
# loss_with = loss_without + X perceptual, to the printed digits
sums () { awk -v n="$1" -v x="$2" -v l="$3" -v p="$4" \
  'BEGIN { d = l - n - x * p; exit !(p > 0 && d < 2e-5 * (1 + x) && d > -2e-5 * (1 + x)) }'; }
check "first loss $l_1 (x 1) = $l_n without + the term" sums "$l_n" 1 $l_1
check "first loss $l_2 (x 2) = $l_n without + twice the term" sums "$l_n" 2 $l_2
check "the term itself is the same at x 1 and x 2" \
  test -n "$l_1" -a "${l_1#* }" = "${l_2#* }"
"$T" forward --weights "$tmp/p1.weights" --input "$PROBE" --output "$tmp/p1.npy"
"$T" forward --weights "$tmp/dn.weights" --input "$PROBE" --output "$tmp/pn.npy"
check "the term changes the trained weights" \
  sh -c "test -s '$tmp/p1.npy' && test -s '$tmp/pn.npy' && ! cmp -s '$tmp/p1.npy' '$tmp/pn.npy'"
check "the weights' metadata keeps the term's settings" \
  sh -c "'$T' info '$tmp/p1.weights' | grep -q '^  perceptual=1\$' && \
         '$T' info '$tmp/p1.weights' | grep -q '^  perceptual_net=$IMNET\$'"
"$T" train $perc --perceptual 1 --perceptual-net "$IMNET" --out "$tmp/p3.weights" \
  --stop-after 2 >/dev/null 2>&1
"$T" train --resume "$tmp/p3.ckpt" --data "$FIX/train" --threads 1 --out "$tmp/p3.weights" \
  >/dev/null 2>"$tmp/p3.err"
"$T" forward --weights "$tmp/p3.weights" --input "$PROBE" --output "$tmp/p3.npy"
check "a resumed run with the term equals the uninterrupted one" cmp -s "$tmp/p1.npy" "$tmp/p3.npy"
check "the resumed run names the term" grep -q "perceptual term x 1" "$tmp/p3.err"
expect "--perceptual without its arrays" 2 "needs --perceptual-net DIR" \
  "$T" train $perc --perceptual 1 --out "$tmp/x.weights"
expect "--perceptual-net without --perceptual" 2 "without --perceptual X" \
  "$T" train $perc --perceptual-net "$IMNET" --out "$tmp/x.weights"
expect "--perceptual with an MSE model" 2 "is for --loss class, not --loss mse" \
  "$T" train --arch cnn --data "$FIX/train" --steps 1 --batch 2 --crop 32 \
  --perceptual 1 --perceptual-net "$IMNET" --out "$tmp/x.weights"
expect "--perceptual on crops too small for the network" 2 "crop 16 or more" \
  "$T" train $perc --crop 8 --perceptual 1 --perceptual-net "$IMNET" --out "$tmp/x.weights"
mkdir -p "$tmp/imnet2"
cp "$IMNET"/*.npy "$tmp/imnet2/" && rm "$tmp/imnet2/layer2.1.conv2.bias.npy"
expect "a missing array is named" 2 "layer2.1.conv2.bias.npy" \
  "$T" train $perc --perceptual 1 --perceptual-net "$tmp/imnet2" --out "$tmp/x.weights"
head -c 200 "$IMNET/layer1.0.conv1.weight.npy" > "$tmp/imnet2/layer2.1.conv2.bias.npy"
expect "a truncated array is named" 2 "layer2.1.conv2.bias.npy" \
  "$T" train $perc --perceptual 1 --perceptual-net "$tmp/imnet2" --out "$tmp/x.weights"

# ---- train --adversarial: the patch discriminator's term ----------------------------
# Its numbers are pinned by tests/test_adversarial.c against PyTorch; here,
# that the trainer adds X times the term to the class loss from
# --adversarial-from on (the head untouched before), keeps the
# discriminator across a resume, and says what is wrong with bad options.
"$T" train $perc --adversarial 1 --adversarial-from 0 --out "$tmp/a1.weights" \
  >/dev/null 2>"$tmp/a1.err"
check "a run with the adversarial term succeeds" test $? -eq 0 -a -s "$tmp/a1.weights"
check "it says so" grep -q "adversarial term x 1 from step 0, discriminator lr 0.0002" "$tmp/a1.err"
"$T" train $perc --adversarial 2 --adversarial-from 0 --out "$tmp/a2.weights" \
  >/dev/null 2>"$tmp/a2.err"
a_1=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\) (adversarial g \([0-9.]*\) d [0-9.]*).*/\1 \2/p' "$tmp/a1.err")
a_2=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\) (adversarial g \([0-9.]*\) d [0-9.]*).*/\1 \2/p' "$tmp/a2.err")
check "first loss $a_1 (x 1) = $l_n without + the term" sums "$l_n" 1 $a_1
check "first loss $a_2 (x 2) = $l_n without + twice the term" sums "$l_n" 2 $a_2
check "the term itself is the same at x 1 and x 2" \
  test -n "$a_1" -a "${a_1#* }" = "${a_2#* }"
"$T" forward --weights "$tmp/a1.weights" --input "$PROBE" --output "$tmp/a1.npy"
check "the term changes the trained weights" \
  sh -c "test -s '$tmp/a1.npy' && ! cmp -s '$tmp/a1.npy' '$tmp/pn.npy'"
"$T" train $perc --adversarial 1 --out "$tmp/a4.weights" >/dev/null 2>"$tmp/a4.err"
"$T" forward --weights "$tmp/a4.weights" --input "$PROBE" --output "$tmp/a4.npy"
check "before --adversarial-from (100) the head trains as without the term" \
  cmp -s "$tmp/a4.npy" "$tmp/pn.npy"
check "... while the discriminator learns (its loss is printed)" \
  grep -q "step 4/4 loss [0-9.]* (adversarial g [0-9.]* d [0-9.]*)" "$tmp/a4.err"
check "the weights' metadata keeps the term's settings" \
  sh -c "'$T' info '$tmp/a1.weights' | grep -q '^  adversarial=1\$' && \
         '$T' info '$tmp/a1.weights' | grep -q '^  adversarial_from=0\$'"
"$T" train $perc --adversarial 1 --adversarial-from 1 --out "$tmp/a3.weights" \
  >/dev/null 2>&1
"$T" forward --weights "$tmp/a3.weights" --input "$PROBE" --output "$tmp/a3u.npy"
"$T" train $perc --adversarial 1 --adversarial-from 1 --out "$tmp/a3.weights" \
  --stop-after 2 >/dev/null 2>&1
check "a stopped run's checkpoint is version 2" \
  test "$(od -An -tu4 -j8 -N4 "$tmp/a3.ckpt" | tr -d ' ')" = 2
"$T" train --resume "$tmp/a3.ckpt" --data "$FIX/train" --threads 1 --out "$tmp/a3.weights" \
  >/dev/null 2>"$tmp/a3.err"
"$T" forward --weights "$tmp/a3.weights" --input "$PROBE" --output "$tmp/a3.npy"
check "a resumed run with the term (and its discriminator) equals the uninterrupted one" \
  cmp -s "$tmp/a3u.npy" "$tmp/a3.npy"
check "the resumed run names the term" grep -q "adversarial term x 1 from step 1" "$tmp/a3.err"
expect "--adversarial with an MSE model" 2 "is for --loss class, not --loss mse" \
  "$T" train --arch cnn --data "$FIX/train" --steps 1 --batch 2 --crop 32 \
  --adversarial 1 --out "$tmp/x.weights"
expect "--adversarial-lr without --adversarial" 2 "--adversarial-lr without --adversarial X" \
  "$T" train $perc --adversarial-lr 1e-3 --out "$tmp/x.weights"
expect "--adversarial-from without --adversarial" 2 "--adversarial-from without --adversarial X" \
  "$T" train $perc --adversarial-from 5 --out "$tmp/x.weights"
expect "a negative --adversarial" 2 "--adversarial" \
  "$T" train $perc --adversarial -1 --out "$tmp/x.weights"
# --adversarial-pool: the discriminator on 2 x 2 means (its numbers pinned
# by test_adversarial.c); the trainer passes it on and keeps it.
"$T" train $perc --adversarial 1 --adversarial-from 0 --adversarial-pool 2 \
  --out "$tmp/ap.weights" >/dev/null 2>"$tmp/ap.err"
check "a run with --adversarial-pool 2 succeeds and says so" \
  grep -q "adversarial term x 1 from step 0, discriminator lr 0.0002, pooling 2" "$tmp/ap.err"
a_p=$(sed -n 's/.*step 1\/4 loss \([0-9.]*\) (adversarial g \([0-9.]*\) d [0-9.]*).*/\1 \2/p' "$tmp/ap.err")
check "first loss $a_p (pool 2) = $l_n without + the term" sums "$l_n" 1 $a_p
check "the pooled term is not the unpooled one (${a_p#* }, ${a_1#* })" \
  test -n "$a_p" -a "${a_p#* }" != "${a_1#* }"
check "the weights' metadata keeps the pooling" \
  sh -c "'$T' info '$tmp/ap.weights' | grep -q '^  adversarial_pool=2\$'"
"$T" forward --weights "$tmp/ap.weights" --input "$PROBE" --output "$tmp/apu.npy"
"$T" train $perc --adversarial 1 --adversarial-from 0 --adversarial-pool 2 \
  --out "$tmp/ap.weights" --stop-after 2 >/dev/null 2>&1
"$T" train --resume "$tmp/ap.ckpt" --data "$FIX/train" --threads 1 --out "$tmp/ap.weights" \
  >/dev/null 2>"$tmp/ap.err"
"$T" forward --weights "$tmp/ap.weights" --input "$PROBE" --output "$tmp/ap.npy"
check "a resumed run keeps the pooling and equals the uninterrupted one" \
  sh -c "grep -q 'pooling 2' '$tmp/ap.err' && cmp -s '$tmp/apu.npy' '$tmp/ap.npy'"
expect "--adversarial-pool without --adversarial" 2 "--adversarial-pool without --adversarial X" \
  "$T" train $perc --adversarial-pool 2 --out "$tmp/x.weights"
expect "--adversarial-pool 9" 2 "--adversarial-pool" \
  "$T" train $perc --adversarial 1 --adversarial-pool 9 --out "$tmp/x.weights"
expect "a pooling too large for the crop" 2 \
  "--adversarial-pool 8 with --crop 32: the discriminator would see 2 x 2" \
  "$T" train $perc --adversarial 1 --adversarial-pool 8 --out "$tmp/x.weights"

# ---- SIGKILL at random moments: train and apply ----------------------------------
# Killed anywhere (mid-step, mid-checkpoint, mid-save), a run leaves its
# old files or complete new ones, never a part; the next run removes the
# temporaries it left (trainer/tmpfile.h); a resumed run still ends with
# the uninterrupted run's weights; the input is never touched.
inputs_sum () { find "$FIX" -type f | sort | xargs cat | cksum; }
in_before=$(inputs_sum)
K=$tmp/kill
mkdir -p "$K"
krun="--arch resnet18 --data $FIX/train --steps 30 --batch 2 --crop 32 --threads 1 \
  --workers 1 --seed 9 --checkpoint-minutes 0.0005"
t0=$(date +%s%N)
"$T" train $krun --out "$K/ref.weights" >/dev/null 2>&1
t1=$(date +%s%N)
"$T" forward --weights "$K/ref.weights" --input "$PROBE" --output "$K/ref.npy"
# kill times: 24 of them, each 2 % to 14 % of the uninterrupted run's wall
# time (each resumed run gets a little further before its kill)
delays=$(awk -v ns=$((t1 - t0)) 'BEGIN { srand (17); for (i = 0; i < 24; i++)
  printf "%.3f ", ns / 1e9 * (0.02 + 0.12 * rand ()) }')
kills=0 partial=0
for d in $delays; do
  if [ -s "$K/k.ckpt" ]; then
    "$T" train --resume "$K/k.ckpt" --data "$FIX/train" --out "$K/k.weights" \
      --threads 1 >/dev/null 2>>"$K/k.err" &
  else
    "$T" train $krun --out "$K/k.weights" >/dev/null 2>>"$K/k.err" &
  fi
  pid=$!
  sleep "$d"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
  if [ -e "$K/k.weights" ] && ! "$T" info "$K/k.weights" >/dev/null 2>&1; then
    partial=$((partial + 1))
  fi
  [ -e "$K/k.weights" ] && break
done
check "train killed $kills times at random moments: weights only whole or absent" \
  test "$kills" -ge 16 -a "$partial" -eq 0
rm -f "$K/k.weights"
if [ -s "$K/k.ckpt" ]; then
  "$T" train --resume "$K/k.ckpt" --data "$FIX/train" --out "$K/k.weights" \
    --threads 1 >/dev/null 2>"$K/k2.err"
else
  "$T" train $krun --out "$K/k.weights" >/dev/null 2>"$K/k2.err"
fi
check "after the kills the rerun completes" test $? -eq 0 -a -s "$K/k.weights"
"$T" forward --weights "$K/k.weights" --input "$PROBE" --output "$K/k.npy"
check "after $kills kills the resumed weights equal the uninterrupted ones" \
  cmp -s "$K/ref.npy" "$K/k.npy"
check "no temporary left beside the outputs" \
  test -z "$(ls -A "$K" | grep -v -e '^ref\.' -e '^k\.' -e '^k2\.err$')"
# apply: a photo large enough that the save takes a while
convert "$FIX/val/bsds_97010.jpg" -resize 2400x1600! "$K/big.png"
t0=$(date +%s%N)
"$T" apply --weights weights/resnet18.weights "$K/big.png" "$K/ref.png" >/dev/null 2>&1
t1=$(date +%s%N)
big_sum=$(cksum <"$K/big.png")
delays=$(awk -v ns=$((t1 - t0)) 'BEGIN { srand (23); for (i = 0; i < 24; i++)
  printf "%.3f ", ns / 1e9 * (0.05 + 0.9 * rand ()) }')
kills=0 bad_out=0
for d in $delays; do
  rm -f "$K/out.png"
  "$T" apply --weights weights/resnet18.weights "$K/big.png" "$K/out.png" >/dev/null 2>&1 &
  pid=$!
  sleep "$d"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
  if [ -e "$K/out.png" ] && ! same_pixels "$K/out.png" "$K/ref.png"; then
    bad_out=$((bad_out + 1))
  fi
done
check "apply killed $kills times at random moments: the output whole or absent" \
  test "$kills" -ge 12 -a "$bad_out" -eq 0
"$T" apply --weights weights/resnet18.weights "$K/big.png" "$K/out.png" >/dev/null 2>"$K/a2.err"
check "after the kills apply completes and gives the same pixels" same_pixels "$K/out.png" "$K/ref.png"
check "the rerun removed what the kills left" \
  test -z "$(ls -A "$K" | grep '^\.colorize-')"
check "the killed apply never touched its input" test "$(cksum <"$K/big.png")" = "$big_sum"
check "the input photos are unchanged" test "$(inputs_sum)" = "$in_before"

# ---- colour hints (apply --hints, eval --hints, make-strokes) -------------------
STROKES=$BUILD/make-strokes
R18=weights/resnet18.weights
"$STROKES" --data "$FIX/val" --out "$tmp/strokes" >"$tmp/strokes.out" 2>&1
check "make-strokes writes one hints file per photo" \
  test "$(ls "$tmp/strokes" | wc -l)" -ge 6
sed -n 's/.*strokes=\([0-9]*\).*/\1/p' "$tmp/strokes.out" >"$tmp/counts"
check "make-strokes paints strokes on every photo" \
  test "$(grep -c '^[1-9]' "$tmp/counts")" -eq "$(wc -l <"$tmp/counts")"
img=$FIX/val/bsds_97010.jpg
hint=$tmp/strokes/bsds_97010.png
"$T" apply --weights "$R18" "$img" "$tmp/h.png" --hints "$hint" --verify >"$tmp/h.out" 2>&1
cat "$tmp/h.out"
check "apply --hints: stroke pixels keep the stroke's a,b within 2" \
  num_lt "$(sed -n 's/.*hint_max_dab=\([0-9.]*\).*/\1/p' "$tmp/h.out")" 2
check "apply --hints: L unchanged within 0.25 (8-bit)" \
  num_lt "$(sed -n 's/.*max_dL=\([0-9.]*\).*/\1/p' "$tmp/h.out")" 0.25
"$T" apply --hints-only "$img" "$tmp/ho.png" --hints "$hint" --verify >"$tmp/ho.out" 2>&1
cat "$tmp/ho.out"
check "apply --hints-only: strokes hold without a network" \
  num_lt "$(sed -n 's/.*hint_max_dab=\([0-9.]*\).*/\1/p' "$tmp/ho.out")" 2
convert -size "$(identify -format %wx%h "$img")" xc:none "PNG32:$tmp/empty.png" 2>/dev/null \
  || cp "$hint" "$tmp/empty.png"
"$T" apply --weights "$R18" "$img" "$tmp/plain.png" >/dev/null 2>&1
expect "apply with an empty hints file: a note" 0 "no painted pixel" \
  "$T" apply --weights "$R18" "$img" "$tmp/e.png" --hints "$tmp/empty.png"
check "apply with an empty hints file equals the plain result" same_pixels "$tmp/e.png" "$tmp/plain.png"
convert "$hint" -resize 50% "PNG32:$tmp/small.png"
expect "hints of another size are refused with both sizes" 1 "are 48x32: expected the photo's size, 96x64" \
  "$T" apply --weights "$R18" "$img" "$tmp/x.png" --hints "$tmp/small.png"
expect "--hints-only without hints" 2 "hints HINTS.png" \
  "$T" apply --hints-only "$img" "$tmp/x.png"
expect "--hints-only with an empty hints file" 1 "nothing else to go by" \
  "$T" apply --hints-only "$img" "$tmp/x.png" --hints "$tmp/empty.png"
"$T" eval --weights "$R18" --data "$FIX/val" >"$tmp/ev0.out" 2>&1
"$T" eval --weights "$R18" --data "$FIX/val" --hints "$tmp/strokes" >"$tmp/ev1.out" 2>&1
tail -n 1 "$tmp/ev0.out"
tail -n 1 "$tmp/ev1.out"
p0=$(field psnr "$tmp/ev0.out") p1=$(field psnr "$tmp/ev1.out")
check "eval --hints: strokes from the truth raise psnr by 2 dB ($p0 -> $p1)" \
  num_lt "$(awk -v a="$p0" 'BEGIN { print a + 2 }')" "$p1"
check "eval --hints says how many photos had hints" grep -q "hints: 7 of 7 images" "$tmp/ev1.out"
"$T" eval --hints-only --data "$FIX/val" --hints "$tmp/strokes" >"$tmp/ev2.out" 2>&1
tail -n 1 "$tmp/ev2.out"
g=$(field gray_psnr "$tmp/ev2.out") p2=$(field psnr "$tmp/ev2.out")
check "eval --hints-only: the strokes alone beat grayscale ($g -> $p2)" num_lt "$g" "$p2"
expect "eval --hints-only with --weights" 2 "takes no --weights" \
  "$T" eval --hints-only --weights "$R18" --data "$FIX/val" --hints "$tmp/strokes"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
