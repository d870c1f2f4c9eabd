#!/bin/sh
# Seeds for the weight-loader fuzzer: the first bytes of valid files of
# both architectures (header and first tensor headers), and damaged ones.
set -e
trainer=$1 out=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in cnn resnet18; do
  "$trainer" init --arch $arch --out "$tmp/$arch.weights" --seed 1 >/dev/null
  head -c 4096 "$tmp/$arch.weights" > "$out/$arch-head"
  head -c 300 "$tmp/$arch.weights" > "$out/$arch-short"
done
printf 'CLRZWGT\n\002\000\000\000' > "$out/version2"
