#!/bin/sh
# contact-sheet.sh - the contact sheet of issue 6: one row per photo,
# columns grayscale | CNN | ResNet18 | original, under a header row.
#
#   tools/contact-sheet.sh [--cnn weights/cnn.weights]
#       [--resnet18 weights/resnet18.weights] [--data ../shared/data/val]
#       [--count 12 | --files a.jpg,b.jpg,...] [--out docs/contact-sheet.png]
#       [--height 160] [--threads N] [--trainer build/colorize-train]
#
# Photos: the first --count regular files of --data (top level, hidden
# files skipped) by file name in byte order (LC_ALL=C), leaving out files
# ImageMagick cannot read; or exactly the --files list (names in --data, or
# paths when they contain a '/').  Defaults are relative to the repository
# root; paths given on the command line are relative to the current
# directory.
#
# Colorization: `colorize-train apply --weights W IN OUT.png` with no
# --size or --strength, i.e. the plug-in's defaults (the weights'
# working_size, strength 1), full resolution, then scaled down here.
#
# Grayscale: the photo's CIE L* with a* = b* = 0, converted back to sRGB
# (ImageMagick: -colorspace Lab, set a,b to neutral, -colorspace sRGB);
# that is the project's notion of gray (the network's input, eval's
# gray_psnr), except that ImageMagick's Lab is D65 and babl's is D50:
# measured on the validation photos, within 3/255 per pixel (mean under
# 1/255) of `colorize-train apply --strength 0`.  (-colorspace Gray, a
# luma, is further off: up to 8/255.)
#
# Cells: each picture fit into a (3/2 H) x H box, aspect kept (3:2 and
# portrait photos get the full height H), centred on white, so every row
# is H high and the columns line up; the file name above each row.  All
# intermediate files go to a temporary folder (removed on exit); nothing
# is written into --data.  Needs ImageMagick 6 (convert, identify).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CNN=$ROOT/weights/cnn.weights
RESNET=$ROOT/weights/resnet18.weights
DATA=$(dirname "$ROOT")/shared/data/val
COUNT=12
FILES=
OUT=$ROOT/docs/contact-sheet.png
HEIGHT=160
THREADS=
TRAINER=$ROOT/${BUILD:-build}/colorize-train

usage () {
  sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2
}
die () { echo "contact-sheet.sh: $*" >&2; exit 1; }
bad () { echo "contact-sheet.sh: $*" >&2; usage; exit 2; }

while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --cnn|--resnet18|--data|--count|--files|--out|--height|--threads|--trainer)
      [ $# -ge 2 ] || bad "option $1 needs a value"
      case $1 in
        --cnn) CNN=$2 ;;
        --resnet18) RESNET=$2 ;;
        --data) DATA=$2 ;;
        --count) COUNT=$2 ;;
        --files) FILES=$2 ;;
        --out) OUT=$2 ;;
        --height) HEIGHT=$2 ;;
        --threads) THREADS=$2 ;;
        --trainer) TRAINER=$2 ;;
      esac
      shift 2 ;;
    *) bad "unknown argument '$1'" ;;
  esac
done

is_int () { case $1 in ''|*[!0-9]*) return 1 ;; *) return 0 ;; esac; }
if ! is_int "$COUNT" || [ "$COUNT" -lt 1 ]; then
  bad "--count expects a positive integer, got '$COUNT'"
fi
if ! is_int "$HEIGHT" || [ "$HEIGHT" -lt 32 ] || [ "$HEIGHT" -gt 1024 ]; then
  bad "--height expects an integer in 32..1024, got '$HEIGHT'"
fi
[ -z "$THREADS" ] || is_int "$THREADS" || bad "--threads expects an integer, got '$THREADS'"

# ---- Tools and weights -------------------------------------------------------
for tool in convert identify; do
  command -v $tool > /dev/null 2>&1 ||
    die "'$tool' not found: install ImageMagick (Debian: apt-get install imagemagick)"
done
[ -x "$TRAINER" ] ||
  die "trainer $TRAINER not found or not executable: build it with 'make build/colorize-train' in $ROOT"

check_weights () { # option file arch
  if [ ! -f "$2" ]; then
    case $3 in
      cnn) hint="train it (trainer/README.md, 'colorize-train train --arch cnn'; weights/README.md lists the shipped files), or for a test only, random weights: '$TRAINER init --arch cnn --out /tmp/cnn.weights'" ;;
      *) hint="it is committed as weights/resnet18.weights (see weights/README.md); restore it with 'git checkout -- weights/resnet18.weights' or train one (trainer/README.md)" ;;
    esac
    die "$1 $2: weights file not found; $hint; then pass $1 FILE"
  fi
  info=$("$TRAINER" info "$2" 2>&1) || true
  arch=$(printf '%s\n' "$info" | sed -n 's/^arch=//p' | head -n 1)
  [ -n "$arch" ] ||
    die "$1 $2: 'colorize-train info' cannot read it: $(printf '%s\n' "$info" | head -n 1)"
  [ "$arch" = "$3" ] || die "$1 $2: holds a '$arch' network, expected '$3'"
}
check_weights --cnn "$CNN" cnn
check_weights --resnet18 "$RESNET" resnet18

[ -d "$DATA" ] || die "--data $DATA: no such folder"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/contact-sheet.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- The photos: one path per line in $TMP/list ------------------------------
: > "$TMP/list"
if [ -n "$FILES" ]; then
  printf '%s\n' "$FILES" | tr ',' '\n' > "$TMP/given"
  while IFS= read -r f; do
    [ -n "$f" ] || continue
    case $f in */*) p=$f ;; *) p=$DATA/$f ;; esac
    [ -f "$p" ] || die "--files: $p: no such file"
    identify "$p" > /dev/null 2>&1 || die "--files: $p: ImageMagick cannot read it"
    printf '%s\n' "$p" >> "$TMP/list"
  done < "$TMP/given"
  [ -s "$TMP/list" ] || bad "--files: empty list"
else
  find "$DATA/" -mindepth 1 -maxdepth 1 -type f ! -name '.*' |
    LC_ALL=C sort > "$TMP/all"
  while IFS= read -r p; do
    [ "$(wc -l < "$TMP/list")" -lt "$COUNT" ] || break
    if identify "$p" > /dev/null 2>&1; then
      printf '%s\n' "$p" >> "$TMP/list"
    else
      echo "contact-sheet.sh: skipped $p (ImageMagick cannot read it)" >&2
    fi
  done < "$TMP/all"
  n=$(wc -l < "$TMP/list")
  [ "$n" -eq "$COUNT" ] ||
    die "--data $DATA: only $n readable photos, --count $COUNT asked for"
fi
N=$(wc -l < "$TMP/list")

# ---- Cells, rows, sheet ------------------------------------------------------
W=$((HEIGHT * 3 / 2))
GAP=4              # between cells: a 2-pixel white border around each
PAD=$((GAP / 2))
ROWW=$((4 * (W + GAP)))
FS=$((HEIGHT / 12)); [ $FS -ge 11 ] || FS=11
LABELH=$((FS * 3 / 2 + 2))
FONT=; BOLD=
if convert -list font 2>/dev/null | grep -q 'Font: DejaVu-Sans$'; then
  FONT="-font DejaVu-Sans"; BOLD="-font DejaVu-Sans-Bold"
fi
# No date/time chunks, so the same inputs give the same PNG.
PNGOPT="-strip -define png:exclude-chunks=date,time -define png:compression-level=9"

label () { # text width height pointsize out [bold]
  f=$FONT; [ -z "${6:-}" ] || f=$BOLD
  # shellcheck disable=SC2086
  convert -background white -fill black $f -pointsize "$4" -size "$2x$3" \
    -gravity west label:"$1" "$5"
}
cell () { # in out
  convert "$1" -resize "${W}x${HEIGHT}" -background white -gravity center \
    -extent "${W}x${HEIGHT}" -bordercolor white -border "$PAD" "$2"
}

# Header: the column labels, centred over the cells.
k=0
for c in "grayscale (L)" "CNN" "ResNet18" "original"; do
  k=$((k + 1))
  # shellcheck disable=SC2086
  convert -background white -fill black $BOLD -pointsize $((FS + 2)) \
    -size "$((W + GAP))x$((LABELH + 4))" -gravity center label:"$c" \
    "$TMP/head-$k.png"
done
convert "$TMP/head-1.png" "$TMP/head-2.png" "$TMP/head-3.png" \
  "$TMP/head-4.png" +append "$TMP/header.png"
label "  CNN: $(basename "$CNN")    ResNet18: $(basename "$RESNET")    (colorize-train apply at the plug-in's defaults; $N photos$([ -n "$FILES" ] && echo ", listed" || echo " from $(basename "$DATA")"))" \
  "$ROWW" "$LABELH" "$FS" "$TMP/title.png"

set -- "$TMP/title.png" "$TMP/header.png"
i=0
while IFS= read -r p; do
  i=$((i + 1))
  r=$TMP/$i
  echo "contact-sheet.sh: [$i/$N] $p" >&2
  # shellcheck disable=SC2086
  "$TRAINER" apply --weights "$CNN" "$p" "$r-cnn.png" \
    ${THREADS:+--threads "$THREADS"} > /dev/null ||
    die "colorize-train apply --weights $CNN $p failed"
  # shellcheck disable=SC2086
  "$TRAINER" apply --weights "$RESNET" "$p" "$r-resnet18.png" \
    ${THREADS:+--threads "$THREADS"} > /dev/null ||
    die "colorize-train apply --weights $RESNET $p failed"
  # Gray: L* of CIE Lab with a* = b* = 0 (0.5 in ImageMagick's encoding).
  convert "$p" -colorspace Lab -channel GB -evaluate set 50% +channel \
    -colorspace sRGB "$r-gray.png"
  cell "$r-gray.png" "$r-c1.png"
  cell "$r-cnn.png" "$r-c2.png"
  cell "$r-resnet18.png" "$r-c3.png"
  cell "$p" "$r-c4.png"
  label "  $(basename "$p")" "$ROWW" "$LABELH" "$FS" "$r-label.png"
  convert "$r-c1.png" "$r-c2.png" "$r-c3.png" "$r-c4.png" +append \
    "$r-cells.png"
  convert "$r-label.png" "$r-cells.png" -append "$r-row.png"
  set -- "$@" "$r-row.png"
done < "$TMP/list"

mkdir -p "$(dirname "$OUT")"
# shellcheck disable=SC2086
convert "$@" -append -bordercolor white -border 6 $PNGOPT "PNG24:$TMP/sheet.png"
cp "$TMP/sheet.png" "$OUT"
bytes=$(wc -c < "$OUT")
[ "$bytes" -le 3000000 ] ||
  echo "contact-sheet.sh: $OUT is over 3 MB; --height $((HEIGHT * 7 / 8)) makes it smaller" >&2
echo "contact-sheet.sh: wrote $OUT ($N photos, $(identify -format '%wx%h' "$OUT"), $bytes bytes)" >&2
