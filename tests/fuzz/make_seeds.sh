#!/bin/sh
# Seeds for the fuzz targets, from real files, under OUT/<target>/:
#   weights     the first bytes of valid files of both architectures
#               (header and first tensor headers), and damaged ones;
#   checkpoint  the first 8 KB of a real checkpoint (a 1-step run on the
#               fixture photos: header, settings text, model header);
#   npy         the committed probe array, whole and cut short;
#   metadata    the metadata text of both shipped weight files;
#   pack        a pack of the fixture val photos at shorter side 8 (header,
#               index, records), whole and cut short.
# usage: make_seeds.sh BUILD/colorize-train OUT
set -e
trainer=$1 out=$2
mkdir -p "$out/weights" "$out/checkpoint" "$out/npy" "$out/metadata" "$out/pack"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in cnn resnet18; do
  "$trainer" init --arch $arch --out "$tmp/$arch.weights" --seed 1 >/dev/null
  head -c 4096 "$tmp/$arch.weights" > "$out/weights/$arch-head"
  head -c 300 "$tmp/$arch.weights" > "$out/weights/$arch-short"
done
printf 'CLRZWGT\n\002\000\000\000' > "$out/weights/version2"
"$trainer" train --arch resnet18 --data tests/fixtures/images/train \
  --out "$tmp/s.weights" --steps 2 --batch 2 --crop 16 --threads 1 \
  --workers 1 --stop-after 1 >/dev/null 2>&1 || true
[ -s "$tmp/s.ckpt" ] || { echo "make_seeds.sh: no checkpoint made" >&2; exit 1; }
head -c 8192 "$tmp/s.ckpt" > "$out/checkpoint/resnet18-head"
head -c 100 "$tmp/s.ckpt" > "$out/checkpoint/resnet18-short"
# the header and settings text, then a model part cut to the first 4096
# bytes of a weight file (its length field says so): the fuzzer then
# reaches the model's parser behind the text
tl=$(od -An -tu4 -j12 -N4 "$tmp/s.ckpt" | tr -d ' ')
{ head -c $((16 + tl)) "$tmp/s.ckpt"
  printf '\000\020\000\000\000\000\000\000'
  head -c 4096 "$tmp/resnet18.weights"
  printf '\000\000\000\000\000\000\000\000'
} > "$out/checkpoint/resnet18-model-head"
cp tests/fixtures/trainer/probe.npy "$out/npy/probe.npy"
head -c 200 tests/fixtures/trainer/probe.npy > "$out/npy/probe-short.npy"
for w in weights/cnn.weights weights/resnet18.weights; do
  "$trainer" info "$w" | sed -n '/^metadata:/,$p' | sed '1d; s/^  //' \
    > "$out/metadata/$(basename "$w" .weights)"
done
"$trainer" pack tests/fixtures/images/val --short-side 8 --out "$tmp/v.pack" 2>/dev/null
[ -s "$tmp/v.pack" ] || { echo "make_seeds.sh: no pack made" >&2; exit 1; }
cp "$tmp/v.pack" "$out/pack/val8.pack"
head -c 300 "$tmp/v.pack" > "$out/pack/val8-short"
