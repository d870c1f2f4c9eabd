#!/bin/sh
# tools/mix-data.sh OUT DIR:N [DIR:N ...] - a training folder of symbolic
# links mixing photo folders: N files of each DIR (evenly spaced through
# its sorted list; N = all takes every file), under OUT/<k>-<name of DIR's
# parent or DIR>/.  `train --data OUT` then samples each source in
# proportion to N: how the weights/README.md runs weight their sources.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUT DIR:N [DIR:N ...]" >&2; exit 2; }
out=$1; shift
[ ! -e "$out" ] || { echo "$0: $out exists; remove it first" >&2; exit 1; }
mkdir -p "$out"
k=0
for spec in "$@"; do
  dir=${spec%:*} n=${spec##*:}
  [ -d "$dir" ] || { echo "$0: $dir: not a folder" >&2; exit 1; }
  k=$((k + 1))
  abs=$(cd "$dir" && pwd)
  name=$(basename "$abs")
  [ "$name" = train ] && name=$(basename "$(dirname "$abs")")
  sub="$out/$k-$name"
  mkdir -p "$sub"
  total=$(find "$abs" -maxdepth 1 -type f ! -name '.*' | wc -l)
  [ "$n" = all ] && n=$total
  find "$abs" -maxdepth 1 -type f ! -name '.*' | LC_ALL=C sort \
    | awk -v n="$n" -v t="$total" 'BEGIN { k = 0 }
        { if (k < n && int(k * t / n) == NR - 1) { print; k++ } }' \
    | while IFS= read -r f; do ln -s "$f" "$sub/$(basename "$f")"; done
  echo "$sub: $(ls "$sub" | wc -l) of $total files of $dir"
done
