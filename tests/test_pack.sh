#!/bin/sh
# test_pack.sh - packed data sets (issue 14, trainer/pack.h, trainset.h):
# colorize-train pack and info, train --data SET.pack and --val VAL.pack
# against the same folders (the same samples: the same weights, bit for
# bit), damaged and truncated packs, interrupted packing, several sources
# with weights.  Tiny runs on tests/fixtures/images; some seconds.
#
#   BUILD=build sh tests/test_pack.sh
BUILD=${BUILD:-build}
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export OMP_WAIT_POLICY
T=$BUILD/colorize-train
FIX=tests/fixtures/images
PROBE=tests/fixtures/trainer/probe.npy
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# babl picks its conversion paths by speed and keeps the choice in
# ~/.cache/babl, which any process may rewrite; another choice moves Lab
# values by about 1e-7, enough to flip the int16 rounding of a few.  The
# photos must load the same way in every process here: a cache of our own.
XDG_CACHE_HOME=$tmp/cache
export XDG_CACHE_HOME

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
# same_weights DESC A.weights B.weights: forward outputs identical
same_weights () {
  "$T" forward --weights "$2" --input "$PROBE" --output "$tmp/sw1.npy" 2>/dev/null
  "$T" forward --weights "$3" --input "$PROBE" --output "$tmp/sw2.npy" 2>/dev/null
  check "$1" cmp -s "$tmp/sw1.npy" "$tmp/sw2.npy"
}
# flip FILE OFFSET: inverts the byte at OFFSET
flip () {
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\$(printf '%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# info_key KEY FILE: the value of KEY=... in info's output
info_key () { sed -n "s/^$1=//p" "$2"; }

if [ ! -x "$T" ]; then
  echo "FAIL: $T missing (run make first)"
  echo "0 passed, 1 failed"
  exit 1
fi

# ---- pack and info -------------------------------------------------------------
"$T" pack "$FIX/train" --out "$tmp/t.pack" >"$tmp/p.out" 2>"$tmp/p.err"
check "pack of the fixture photos succeeds" test $? -eq 0 -a -s "$tmp/t.pack"
check "pack counts as train does" grep -q "26 files, 23 images used, 1 left out as unreadable, 2 left out as near-grayscale" "$tmp/p.err"
check "pack names the unreadable file once" test "$(grep -c 'unreadable: .*corrupt.jpg: corrupt JPEG' "$tmp/p.err")" -eq 1
check "no temporary file left beside the pack" test "$(ls -A "$tmp" | grep -c '^\.colorize-')" -eq 0
"$T" info "$tmp/t.pack" --records --check >"$tmp/i.out" 2>&1
check "info SET.pack exits 0" test $? -eq 0
check "info: kind, shorter side, threshold, records, sources" \
  test "$(info_key kind "$tmp/i.out") $(info_key short_side "$tmp/i.out") $(info_key gray_threshold "$tmp/i.out") $(info_key records "$tmp/i.out") $(info_key sources "$tmp/i.out")" = "lab16 160 3 23 1"
check "info: the source and its counts" grep -q "^source 0: $FIX/train: 26 files, 23 records, 1 unreadable, 2 near-grayscale, [0-9]* bytes$" "$tmp/i.out"
check "info: 23 record lines" test "$(grep -c '^record ' "$tmp/i.out")" -eq 23
check "info: records in the folder's sorted order" \
  test "$(sed -n 's/^record 0: .* \([^ ]*\)$/\1/p' "$tmp/i.out") $(sed -n 's/^record 22: .* \([^ ]*\)$/\1/p' "$tmp/i.out")" = "$FIX/train/bsds_100007.jpg $FIX/train/sub/urban100_img_004.jpg"
check "info --check: every record decodes" grep -q "check: all 23 records decode and match their checksums" "$tmp/i.out"
ratio=$(info_key ratio "$tmp/i.out")
check "records are smaller than the int16 cache (ratio $ratio)" awk -v r="$ratio" 'BEGIN { exit !(r > 0.3 && r < 0.8) }'
"$T" pack "$FIX/train" --threads 3 --out "$tmp/t3.pack" 2>/dev/null
check "the same file with 1 and 3 threads" cmp -s "$tmp/t.pack" "$tmp/t3.pack"
"$T" pack "$FIX/val" --full --out "$tmp/v.pack" 2>/dev/null
"$T" info "$tmp/v.pack" --check >"$tmp/iv.out" 2>&1
check "pack --full: 7 full photos" test "$(info_key kind "$tmp/iv.out") $(info_key records "$tmp/iv.out")" = "rgb8 7"

"$T" pack "$FIX/train" --variants 3 --out "$tmp/t3v.pack" 2>"$tmp/v3.err"
"$T" info "$tmp/t3v.pack" --records --check >"$tmp/iv3.out" 2>&1
check "pack --variants 3: 69 records, said so" \
  test "$(info_key records "$tmp/iv3.out")" -eq 69 -a "$(grep -c '3 variants a photo (re-cropped, flipped)' "$tmp/iv3.out")" -eq 1
check "pack --variants 3: variant 0 is the photo, 1 and 2 are named #1 #2" \
  test "$(sed -n 's/^record [3-5]: .* bytes at [0-9]* //p' "$tmp/iv3.out" | tr '\n' ' ')" = "$FIX/train/bsds_100039.jpg $FIX/train/bsds_100039.jpg#1 $FIX/train/bsds_100039.jpg#2 "
check "pack --variants 3: every record decodes" grep -q "check: all 69 records" "$tmp/iv3.out"
"$T" eval --weights weights/cnn.weights --data "$FIX/val" >"$tmp/ef.out" 2>/dev/null
"$T" eval --weights weights/cnn.weights --data "$tmp/v.pack" >"$tmp/ep.out" 2>/dev/null
check "eval --data VAL.pack: the folder's figures, image by image" cmp -s "$tmp/ef.out" "$tmp/ep.out"
mkdir -p "$tmp/empty" "$tmp/useless"
cp "$FIX/train/corrupt.jpg" "$FIX/train/gray_bsds_100007.png" "$tmp/useless/"
expect "pack: missing folder" 1 "nope: No such file or directory" "$T" pack "$tmp/nope" --out "$tmp/x.pack"
expect "pack: empty folder" 1 "contains no files" "$T" pack "$tmp/empty" --out "$tmp/x.pack"
expect "pack: no usable photo" 1 "no usable image among 2 files (1 unreadable, 1 near-grayscale)" \
  "$T" pack "$tmp/useless" --out "$tmp/x.pack"
expect "pack: unwritable output" 1 "cannot write $tmp/no/.colorize-[0-9]*-x.pack" "$T" pack "$FIX/val" --out "$tmp/no/x.pack"
expect "pack: no --out" 2 "out SET.pack is required" "$T" pack "$FIX/val"
expect "pack: bad --short-side" 2 "short-side expects a number" "$T" pack "$FIX/val" --short-side 4 --out "$tmp/x.pack"
check "no pack and no temporary file after the errors" test -z "$(ls -A "$tmp" | grep -e '^x.pack' -e '^\.colorize-')"

# Interrupted: nothing under the final name, an older pack left as it was.
expect "pack interrupted after 5 records exits 130" 130 "interrupted; $tmp/s.pack not written" \
  "$T" pack "$FIX/train" --out "$tmp/s.pack" --stop-after 5
check "interrupted: no pack, no temporary file" test -z "$(ls -A "$tmp" | grep -e '^s.pack' -e '^\.colorize-')"
cp "$tmp/v.pack" "$tmp/old.pack"
"$T" pack "$FIX/train" --out "$tmp/old.pack" --stop-after 5 2>/dev/null
check "interrupted: the older pack under that name is untouched" cmp -s "$tmp/old.pack" "$tmp/v.pack"

# ---- Damaged and truncated packs: refused, naming the record -----------------------
rec5=$(sed -n 's/^record 5: .* bytes at \([0-9]*\) .*/\1/p' "$tmp/i.out")
path5=$(sed -n 's/^record 5: .* \([^ ]*\)$/\1/p' "$tmp/i.out")
cp "$tmp/t.pack" "$tmp/d.pack"
flip "$tmp/d.pack" $((rec5 + 100))
expect "info --check: a flipped byte in record 5 is named" 1 "d.pack: record 5 ($path5): checksum mismatch, expected [0-9a-f]*, found [0-9a-f]* (damaged file)" \
  "$T" info "$tmp/d.pack" --check
run="--arch cnn --steps 6 --batch 4 --crop 32 --seed 1 --threads 1 --checkpoint-minutes 0"
expect "train: a flipped byte in record 5 stops the run naming the record" 1 "step [0-9]*: .*d.pack: record 5 ($path5): checksum mismatch" \
  "$T" train $run --data "$tmp/d.pack" --out "$tmp/d.weights"
check "train: no weights from a damaged pack" test ! -e "$tmp/d.weights"
size=$(wc -c <"$tmp/t.pack")
head -c $((size - 1000)) "$tmp/t.pack" >"$tmp/cut.pack"
expect "a truncated pack is refused with both sizes" 1 "cut.pack: truncated: the file has $((size - 1000)) bytes, the header says [0-9]* + [0-9]* (records + index)" \
  "$T" train $run --data "$tmp/cut.pack" --out "$tmp/x.weights"
head -c 40 "$tmp/t.pack" >"$tmp/tiny.pack"
expect "a pack cut inside its header" 1 "tiny.pack: .*too short" "$T" info "$tmp/tiny.pack"
cp "$tmp/t.pack" "$tmp/h.pack"
flip "$tmp/h.pack" 21
expect "a flipped byte in the header" 1 "h.pack: header checksum mismatch (damaged file)" \
  "$T" info "$tmp/h.pack"
cp "$tmp/t.pack" "$tmp/ix.pack"
flip "$tmp/ix.pack" $((size - 5))
expect "a flipped byte in the index's paths" 1 "ix.pack: index checksum mismatch (damaged file)" \
  "$T" info "$tmp/ix.pack"
# record 3's offset in the index (source entries of 3900 bytes, then 40 a record)
ioff=$(info_key record_bytes "$tmp/i.out")
cp "$tmp/t.pack" "$tmp/off.pack"
flip "$tmp/off.pack" $((64 + ioff + 3900 + 3 * 40 + 2))
expect "a damaged record entry is named" 1 "off.pack: record 3 (.*): bytes [0-9]* + [0-9]*, expected them to start at" \
  "$T" info "$tmp/off.pack"
cp "$tmp/t.pack" "$tmp/wh.pack"
flip "$tmp/wh.pack" $((64 + ioff + 3900 + 7 * 40 + 23))
expect "an impossible record size is named" 1 "wh.pack: record 7 (.*): size [0-9]*x[0-9]*, expected 1..65535" \
  "$T" info "$tmp/wh.pack"
# A real SIGTERM and a SIGKILL in the middle of packing (16 variants a
# photo: about a second of work).
"$T" pack "$FIX/train" --variants 16 --out "$tmp/k.pack" 2>"$tmp/k.err" &
pid=$!
sleep 0.3
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 0 ]; then
  check "SIGTERM came after the end: a whole pack" sh -c "'$T' info '$tmp/k.pack' --check >/dev/null"
else
  check "SIGTERM: exit 143, nothing under the name, no temporary (exit $rc)" \
    test $rc -eq 143 -a -z "$(ls -A "$tmp" | grep -e '^k.pack' -e '^\.colorize-')"
fi
rm -f "$tmp/k.pack"
"$T" pack "$FIX/train" --variants 16 --out "$tmp/k.pack" 2>/dev/null &
pid=$!
sleep 0.3
kill -KILL $pid
wait $pid 2>/dev/null
check "SIGKILL: no pack under the name, or a whole one" \
  sh -c "test ! -e '$tmp/k.pack' || '$T' info '$tmp/k.pack' --check >/dev/null"
left=$(ls -A "$tmp" | grep -c '^\.colorize-.*-k.pack$')
"$T" pack "$FIX/val" --out "$tmp/k.pack" 2>"$tmp/k2.err"
check "the next pack removes the killed run's temporary ($left left)" \
  test -z "$(ls -A "$tmp" | grep '^\.colorize-')" -a "$(grep -c 'left by a run that was killed' "$tmp/k2.err")" -eq "$left"

# ---- train from a pack equals train from the folder --------------------------------
run="--arch resnet18 --steps 8 --batch 4 --crop 32 --seed 7 --threads 1
     --workers 2 --val-every 4 --checkpoint-minutes 0"
"$T" train $run --data "$FIX/train" --val "$FIX/val" --out "$tmp/f.weights" >/dev/null 2>"$tmp/f.err"
"$T" train $run --data "$tmp/t.pack" --val "$tmp/v.pack" --out "$tmp/p.weights" >/dev/null 2>"$tmp/pt.err"
check "train --data SET.pack --val VAL.pack succeeds" test $? -eq 0 -a -s "$tmp/p.weights"
check "train names the pack, its counts and shorter side" \
  grep -q "t.pack: 23 records of 26 files from $FIX/train (1 left out as unreadable, 2 as near-grayscale), packed at shorter side 160" "$tmp/pt.err"
check "each of the 32 samples decoded one record" grep -q "read 32 pack records" "$tmp/pt.err"
same_weights "the pack's weights equal the folder's (resnet18, mse)" "$tmp/f.weights" "$tmp/p.weights"
"$T" info "$tmp/f.weights" | grep -E '^  (val_|images=|left_out)' | grep -v val_data >"$tmp/fm"
"$T" info "$tmp/p.weights" | grep -E '^  (val_|images=|left_out)' | grep -v val_data >"$tmp/pm"
check "the same validation figures and counts in the metadata" cmp -s "$tmp/fm" "$tmp/pm"
check "validation ran on the 7 full photos of VAL.pack" grep -q "^  val_images=7$" "$tmp/pm"
run="--arch cnn --loss class --steps 4 --batch 4 --crop 32 --seed 3 --threads 1 --checkpoint-minutes 0"
"$T" train $run --data "$FIX/train" --out "$tmp/fc.weights" >/dev/null 2>&1
"$T" train $run --data "$tmp/t.pack" --out "$tmp/pc.weights" >/dev/null 2>&1
same_weights "the same for the class loss (rare-colour weights from the pack's histogram)" "$tmp/fc.weights" "$tmp/pc.weights"
"$T" pack "$FIX/train" --short-side 48 --out "$tmp/t48.pack" 2>/dev/null
run="--arch cnn --steps 3 --batch 2 --crop 24 --seed 5 --threads 1 --checkpoint-minutes 0"
"$T" train $run --data "$FIX/train" --cache-size 48 --out "$tmp/f48.weights" >/dev/null 2>&1
"$T" train $run --data "$tmp/t48.pack" --out "$tmp/p48.weights" >/dev/null 2>&1
same_weights "a pack at --short-side 48 equals the folder at --cache-size 48" "$tmp/f48.weights" "$tmp/p48.weights"
check "train takes the pack's shorter side" sh -c "'$T' info '$tmp/p48.weights' | grep -q '^  cache_side=48$'"
expect "a pack at another shorter side than --cache-size" 1 "t48.pack was packed at shorter side 48, grey threshold 3; this run uses --cache-size 160" \
  "$T" train $run --cache-size 160 --data "$tmp/t48.pack" --out "$tmp/x.weights"

# A checkpoint made on the folder resumes on its pack (the same data hash).
run="--arch cnn --steps 6 --batch 4 --crop 32 --seed 9 --threads 1 --checkpoint-minutes 0"
"$T" train $run --data "$FIX/train" --out "$tmp/r.weights" >/dev/null 2>&1
"$T" train $run --data "$FIX/train" --out "$tmp/r2.weights" --stop-after 3 >/dev/null 2>&1
"$T" train --resume "$tmp/r2.ckpt" --data "$tmp/t.pack" --threads 1 --out "$tmp/r2.weights" >/dev/null 2>"$tmp/r2.err"
check "a folder's checkpoint resumes on its pack" test $? -eq 0
same_weights "resumed on the pack: the uninterrupted folder run's weights" "$tmp/r.weights" "$tmp/r2.weights"
expect "resume on another pack" 1 "was made on 23 images" \
  "$T" train --resume "$tmp/r2.ckpt" --data "$tmp/t.pack" "$FIX/val" --threads 1 --out "$tmp/x.weights"

expect "--val with a training pack" 1 "t.pack holds training records" \
  "$T" train $run --data "$tmp/t.pack" --val "$tmp/t.pack" --out "$tmp/x.weights"
expect "--data with a pack of full photos" 1 "v.pack holds full photos (pack --full)" \
  "$T" train $run --data "$tmp/v.pack" --out "$tmp/x.weights"
expect "--data with a file that is not a pack" 1 "not a folder, and not a colorize pack" \
  "$T" train $run --data "$PROBE" --out "$tmp/x.weights"

# ---- Several sources, per-source weights ------------------------------------------
"$T" pack "$FIX/val" --out "$tmp/vl.pack" 2>/dev/null
wrun="--arch cnn --steps 1 --batch 30 --crop 16 --seed 4 --threads 1 --checkpoint-minutes 0"
"$T" train $wrun --data "$tmp/t.pack:1" "$tmp/vl.pack:1" --trace-reads "$tmp/tr1" \
  --workers 1 --out "$tmp/w.weights" >/dev/null 2>"$tmp/w.err"
check "weights 1:1 give the small source half the epoch" grep -q "vl.pack: weight 1: 15 of the 30 samples of an epoch (each image 2.14 times)" "$tmp/w.err"
check "the large source: 15 samples of 15 different records" \
  test "$(awk '$2 == 0' "$tmp/tr1" | wc -l) $(awk '$2 == 0 { print $3 }' "$tmp/tr1" | sort -u | wc -l)" = "15 15"
check "the small source: 15 samples, each of its 7 records 2 or 3 times" \
  test "$(awk '$2 == 1 { print $3 }' "$tmp/tr1" | sort | uniq -c | awk '{ print $1 }' | sort -u | tr '\n' ' ')" = "2 3 " -a "$(awk '$2 == 1' "$tmp/tr1" | wc -l)" -eq 15
"$T" train $wrun --data "$tmp/t.pack:1" "$tmp/vl.pack:1" --trace-reads "$tmp/tr3" \
  --workers 3 --out "$tmp/w3.weights" >/dev/null 2>&1
check "the weighted order does not depend on the worker count" \
  test "$(sort -n "$tmp/tr1" | md5sum)" = "$(sort -n "$tmp/tr3" | md5sum)"
same_weights "nor do the weights" "$tmp/w.weights" "$tmp/w3.weights"
wrun="--arch cnn --steps 6 --batch 4 --crop 16 --seed 4 --threads 1 --checkpoint-minutes 0"
"$T" train $wrun --data "$tmp/t.pack:0.25" "$FIX/val:1" --out "$tmp/wr.weights" >/dev/null 2>&1
"$T" train $wrun --data "$tmp/t.pack:0.25" "$FIX/val:1" --out "$tmp/wr2.weights" --stop-after 2 >/dev/null 2>&1
expect "resume with other weights is refused" 1 "was made on 30 images, .* different ones" \
  "$T" train --resume "$tmp/wr2.ckpt" --data "$tmp/t.pack:0.5" "$FIX/val:1" --out "$tmp/wr2.weights"
"$T" train --resume "$tmp/wr2.ckpt" --data "$tmp/t.pack:0.25" "$FIX/val:1" --threads 1 \
  --out "$tmp/wr2.weights" >/dev/null 2>&1
same_weights "a pack and a folder with weights: resumed equals uninterrupted" "$tmp/wr.weights" "$tmp/wr2.weights"
"$T" train $wrun --data "$FIX/train" "$tmp/vl.pack" --out "$tmp/u.weights" >/dev/null 2>&1
check "a folder and a pack without weights: one list of 30 images" \
  sh -c "'$T' info '$tmp/u.weights' | grep -q '^  images=30$'"
expect "weights for some sources only" 1 "give a weight (PATH:W) to every source or to none (1 of 2 have one)" \
  "$T" train $wrun --data "$tmp/t.pack:2" "$tmp/vl.pack" --out "$tmp/x.weights"
expect "a weight that is not a positive number" 1 "the weight after ':' must be a number in (0, 1e6\], got '0'" \
  "$T" train $wrun --data "$tmp/t.pack:0" "$tmp/vl.pack:1" --out "$tmp/x.weights"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
