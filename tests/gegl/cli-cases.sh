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
# The gegl tool writes through an 8-bit PNG sink, as apply writes: its
# -o default is a 16-bit PNG, which the README's case below checks.
run_both () {
  name=$1 in=$2 chain=$3 opts=$4
  # shellcheck disable=SC2086
  gegl "$in" -- $chain gegl:png-save path="$OUT/$name-gegl.png" bitdepth=8 \
    > "$OUT/$name-gegl.log" 2>&1
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

# Grey (strength 0): the same pixels, all of them (loading, L, writing).
cli_exact grey "$OUT/photo.jpg" "colorize:resnet18 strength=0" "--weights $W/resnet18.weights --strength 0"
# The README's command.
cli_exact readme "$OUT/photo.jpg" "colorize:resnet18 strength=1.2" "--weights $W/resnet18.weights --strength 1.2"
cli_exact r18-low "$OUT/photo.jpg" "colorize:resnet18 strength=0.1" "--weights $W/resnet18.weights --strength 0.1"
cli_exact cnn-hills $S/hills.png "colorize:cnn strength=0.1" "--weights $W/cnn.weights --strength 0.1"
cli_exact cnn-full $S/portrait.png "colorize:cnn" "--weights $W/cnn.weights"
cli_exact r18-ws $S/church.png "colorize:resnet18 working-size=128" "--weights $W/resnet18.weights --working-size 128"
cli_exact hints $S/castle.png "colorize:resnet18-hints aux=[ gegl:load path=$OUT/hints.png ]" \
  "--weights $W/resnet18.weights --hints $OUT/hints.png"
cli_exact hints-only $S/castle.png "colorize:cnn-hints hints-only=true aux=[ gegl:load path=$OUT/hints.png ]" \
  "--hints-only --hints $OUT/hints.png"
# The README's command as written: -o makes a 16-bit PNG.  Its pixels are
# apply's to within the 16-bit rounding: each value within half a 16-bit
# step of one that rounds to apply's 8-bit value, |v - a| <= (0.5 + 0.5 /
# 257) / 255 = 0.0019685, plus 1e-6 for the float arithmetic on both sides
# (a value within float rounding of a half step can round either way:
# measured once in 24,576 pixels in 2 of 8 cases before the 8-bit sink
# above; and 0.00196868, 2e-7 over the exact bound, with session 11's
# resnet18.weights).
gegl "$OUT/photo.jpg" -o "$OUT/readme16-gegl.png" -- colorize:resnet18 strength=1.2 \
  > "$OUT/readme16-gegl.log" 2>&1
line=$("$OUT/gegl-diff" "R'G'B'A float" "$OUT/readme-apply.png" "$OUT/readme16-gegl.png" 2>&1)
m=$(field "$line" max | tr ',' '\n' | sort -g | tail -n 1)
[ -n "$m" ] && [ "$(echo "$m <= 0.0019695" | sed 's/e-/*10^-/' | bc -l)" = 1 ] &&
  [ "$(field "$line" max 4)" = 0 ] &&
  ok "gegl photo.jpg -o out.png -- colorize:resnet18 strength=1.2 (16-bit) = apply's pixels to within 16-bit rounding (max $m)" ||
  notok "the README's 16-bit output against apply's ($line)"
# The colour came: the README's output is not the photo's grey.
line=$("$OUT/gegl-diff" "CIE Lab alpha float" "$OUT/photo.jpg" "$OUT/readme16-gegl.png")
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
