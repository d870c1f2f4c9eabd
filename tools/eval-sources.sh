#!/bin/sh
# tools/eval-sources.sh WEIGHTS [EVAL OPTIONS...] - `colorize-train eval`
# of WEIGHTS on ../shared/data/val and on each held-out source of
# ../shared/data/more/*/val; one line per set: its name, then eval's last
# line (images, psnr, gray_psnr, colorfulness, ..., gray_auc_rebal).
# DATA (../shared/data) and BUILD (build) may be set.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 WEIGHTS [EVAL OPTIONS...]" >&2; exit 2; }
w=$1; shift
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}
bin=${BUILD:-$here/build}/colorize-train
for set in "$data/val" "$data"/more/*/val; do
  [ -d "$set" ] || continue
  name=$(basename "$set")
  [ "$name" = val ] && [ "$set" != "$data/val" ] && name=$(basename "$(dirname "$set")")
  printf '%s %s\n' "$name" "$("$bin" eval --weights "$w" --data "$set" "$@" 2>/dev/null | tail -n 1)"
done
