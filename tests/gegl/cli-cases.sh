# cli-cases.sh - the gegl tool cases of tests/test_gegl.sh (sourced there:
# uses its ok/notok/expect, $OUT, $BUILD, and XDG_DATA_HOME pointing to
# the tests' install).
S=tests/gimp/samples
W=weights
APPLY="$BUILD/colorize-train apply"
convert $S/castle.png -quality 90 "$OUT/photo.jpg"
convert $S/castle.png -alpha set -channel A -fx 'i/w' +channel "PNG32:$OUT/alpha.png"
convert -size 128x192 xc:none +antialias -fill '#7a9cc8' -draw 'rectangle 8,8 40,20' \
  -fill '#6b7a3a' -draw 'rectangle 20,150 100,160' "PNG32:$OUT/hints.png"

# field LINE NAME [INDEX]: a field of gegl-diff's line (max and mean: the
# INDEX-th channel, 1-based).
field () {
  v=$(echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p")
  [ $# -gt 2 ] && v=$(echo "$v" | cut -d, -f"$3")
  echo "$v"
}
# run_both NAME IN "GEGL CHAIN" "APPLY OPTIONS": the two outputs
# $OUT/NAME-gegl.png and $OUT/NAME-apply.png; $diff: gegl-diff's line.
run_both () {
  name=$1 in=$2 chain=$3 opts=$4
  # shellcheck disable=SC2086
  gegl "$in" -o "$OUT/$name-gegl.png" -- $chain > "$OUT/$name-gegl.log" 2>&1
  # shellcheck disable=SC2086
  $APPLY $opts "$in" "$OUT/$name-apply.png" > "$OUT/$name-apply.log" 2>&1
  diff=$("$OUT/gegl-diff" "R'G'B'A u8" "$OUT/$name-apply.png" "$OUT/$name-gegl.png" 2>&1)
}
# cli_exact NAME IN CHAIN OPTS: every 8-bit pixel the same.
cli_exact () {
  run_both "$@"
  [ "$(field "$diff" differ)" = 0 ] &&
    ok "gegl -- $3 = colorize-train apply $4: the same pixels, all of them ($diff)" ||
    notok "gegl -- $3 = colorize-train apply $4: the same pixels ($diff)"
}
# cli_close STEPS NAME IN CHAIN OPTS: at most 5 % of the pixels differ,
# by at most STEPS (8 bit), alpha never.  Both sides map the gamut the
# same way (nn/gamut.h) through the same conversions; what is left is
# float rounding in paths the two take differently: measured, one pixel
# of 24,576 off by one step (church.png at working-size 128; portrait.png
# with the distilled CNN), the rest exact.
cli_close () {
  steps=$1; shift
  run_both "$@"
  d=$(field "$diff" differ) n=$((128 * 192))
  m=$(field "$diff" max | tr ',' '\n' | sort -n | tail -n 1)
  [ -n "$d" ] && [ $((d * 100)) -le $((5 * n)) ] && [ "${m%.*}" -le "$steps" ] &&
    [ "$(field "$diff" max 4)" = 0 ] &&
    ok "gegl -- $3 ~ colorize-train apply $4: $d of $n pixels differ, by at most $m steps ($diff)" ||
    notok "gegl -- $3 ~ colorize-train apply $4 ($diff)"
}

# Grey (strength 0): the same pixels, all of them (loading, L, writing).
cli_exact grey "$OUT/photo.jpg" "colorize:resnet18 strength=0" "--weights $W/resnet18.weights --strength 0"
# The README's command.
cli_close 1 readme "$OUT/photo.jpg" "colorize:resnet18 strength=1.2" "--weights $W/resnet18.weights --strength 1.2"
cli_close 1 r18-low "$OUT/photo.jpg" "colorize:resnet18 strength=0.1" "--weights $W/resnet18.weights --strength 0.1"
cli_close 1 cnn-hills $S/hills.png "colorize:cnn strength=0.1" "--weights $W/cnn.weights --strength 0.1"
cli_close 1 cnn-full $S/portrait.png "colorize:cnn" "--weights $W/cnn.weights"
cli_close 1 r18-ws $S/church.png "colorize:resnet18 working-size=128" "--weights $W/resnet18.weights --working-size 128"
cli_close 1 hints $S/castle.png "colorize:resnet18-hints aux=[ gegl:load path=$OUT/hints.png ]" \
  "--weights $W/resnet18.weights --hints $OUT/hints.png"
cli_close 1 hints-only $S/castle.png "colorize:cnn-hints hints-only=true aux=[ gegl:load path=$OUT/hints.png ]" \
  "--hints-only --hints $OUT/hints.png"
# The colour came: the README's output is not the photo's grey.
line=$("$OUT/gegl-diff" "CIE Lab alpha float" "$OUT/photo.jpg" "$OUT/readme-gegl.png")
[ "$(echo "$(field "$line" mean 3) > 2" | bc)" = 1 ] &&
  ok "the README's command colours the photo (mean |b| change $(field "$line" mean 3))" ||
  notok "the README's command colours the photo ($line)"
# Lightness kept exactly (the gegl tool writes 16-bit PNGs): L within
# 0.01 of the photo's (0.05 where alpha is low), and alpha passed through.
dl=$(field "$line" max 1)
[ "$(echo "$dl <= 0.01" | bc)" = 1 ] && ok "L kept: max |dL| $dl against the photo" ||
  notok "L kept: max |dL| $dl against the photo ($line)"
gegl "$OUT/alpha.png" -o "$OUT/alpha-gegl.png" -- colorize:resnet18 > /dev/null 2>&1
line=$("$OUT/gegl-diff" "CIE Lab alpha float" "$OUT/alpha.png" "$OUT/alpha-gegl.png")
[ "$(field "$line" max 4)" = 0 ] && [ "$(echo "$(field "$line" max 1) <= 0.05" | bc)" = 1 ] &&
  ok "alpha passed through exactly, L kept, on an alpha ramp ($line)" ||
  notok "alpha passed through exactly, L kept, on an alpha ramp ($line)"

# Bad input: a warning naming the problem, the input unchanged, no crash.
head -c 1000 $W/cnn.weights > "$OUT/bad.weights"
# bad NAME "PROPS" PATTERN
bad () {
  # shellcheck disable=SC2086
  gegl $S/hills.png -o "$OUT/bad-$1.png" -- $2 > "$OUT/bad-$1.log" 2>&1
  rc=$?
  line=$("$OUT/gegl-diff" "R'G'B'A u8" $S/hills.png "$OUT/bad-$1.png" 2>&1)
  grep -q -- "$3" "$OUT/bad-$1.log" && [ "$(field "$line" differ)" = 0 ] && [ $rc -lt 128 ] &&
    ok "$1: '$3' in the warning, the photo passed through unchanged (rc $rc)" ||
    notok "$1: want '$3' and the photo unchanged (rc $rc, $line): $(cat "$OUT/bad-$1.log")"
}
bad missing "colorize:resnet18 weights-file=/nonexistent/x.weights" \
  "colorize:resnet18: The weights file '/nonexistent/x.weights' does not exist"
bad corrupt "colorize:cnn weights-file=$OUT/bad.weights" \
  "colorize:cnn: Could not load the weights file '$OUT/bad.weights'"
bad wrong-arch "colorize:resnet18 weights-file=$ROOT/$W/cnn.weights" "holds a CNN model, not a ResNet18 one"
bad working-size "colorize:cnn working-size=20" "working size must be 0 (the model's default) or between 64 and 2048"
bad hints-only "colorize:cnn-hints hints-only=true" "hints-only needs colour hints"
# No bundled weights found: COLORIZE_WEIGHTS_DIR names an empty folder.
mkdir -p "$OUT/empty"
COLORIZE_WEIGHTS_DIR=$OUT/empty bad no-bundle "colorize:cnn" "'$OUT/empty/cnn.weights' does not exist"
