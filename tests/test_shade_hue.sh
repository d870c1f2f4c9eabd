#!/bin/sh
# tools/shade-hue.py on made-up photos against published CIE Lab values:
# sRGB blue (0,0,255) is L 32.30, a 79.19, b -107.86 (chroma 133.8, hue
# 306 degrees: purple-red), sRGB red (255,0,0) is L 53.24, a 80.09, b
# 67.20 (chroma 104.55, hue 40).  A truth half blue, half red: a
# prediction equal to it scores auc_rebal 100 and gray 50 (17 + 46) / 151
# = 20.86 (an error of 133.8 is within the 17 thresholds 134..150, one of
# 104.55 within 46), gains 50 (1 - 17/151) = +44.37 in the band 30-40 and
# 50 (1 - 46/151) = +34.77 in 50-60; a grey prediction gains +0.00;
# missing or other-sized predictions are left out; bad arguments fail
# with a message.  Skipped without numpy.
NAME=test_shade_hue
TOOL=tools/shade-hue.py
. tests/pytool.sh
mkdir -p "$tmp/truth" "$tmp/same" "$tmp/grey" "$tmp/small" "$tmp/empty"
convert -size 40x20 xc:'rgb(255,0,0)' -fill 'rgb(0,0,255)' \
  -draw 'rectangle 0,0 19,19' "$tmp/truth/t.png"
cp "$tmp/truth/t.png" "$tmp/same/t.png"
convert "$tmp/truth/t.png" -colorspace Gray -colorspace sRGB -type TrueColor "$tmp/grey/t.png"
convert "$tmp/truth/t.png" -resize 20x10! "$tmp/small/t.png"
$PY $TOOL --every 1 "$tmp/truth" "$tmp/same" > "$tmp/same.txt" 2>&1
check "same: exit 0" "[ $? = 0 ]"
check "same: one photo" "grep -q '^photos 1 (left out 0), every 1 pixel' $tmp/same.txt"
check "same: auc 100, gray 20.86, gain +79.14" \
  "grep -q '^auc_rebal 100.00 gray 20.86 gain +79.14$' $tmp/same.txt"
check "same: blue in 30-40, Lab and purple-red, gain there" \
  "grep -q '^ 30-40 *400 | *+79.2 -107.9  133.8 100.0% | *+79.2 -107.9  133.8 100.0% | *+44.37$' $tmp/same.txt"
check "same: red in 50-60, not purple-red, gain there" \
  "grep -q '^ 50-60 *400 | *+80.1 *+67.2  104.[56]   0.0% |.* | *+34.77$' $tmp/same.txt"
check "same: two bands" "[ \$(grep -c '^ *[0-9]*-[0-9]* ' $tmp/same.txt) = 2 ]"
$PY $TOOL --every 1 "$tmp/truth" "$tmp/grey" > "$tmp/grey.txt" 2>&1
check "grey: gain +0.00" "grep -q '^auc_rebal 20.86 gray 20.86 gain +0.00$' $tmp/grey.txt"
$PY $TOOL --every 2 "$tmp/truth" > "$tmp/truth.txt" 2>&1
check "truth alone: 400 pixels, no prediction columns" \
  "[ \$(awk '/^ *[0-9]+-/ { n += \$2 } END { print n }' $tmp/truth.txt) = 400 ] && ! grep -q pred $tmp/truth.txt"
$PY $TOOL "$tmp/truth" "$tmp/small" > "$tmp/small.txt" 2>&1
check "other size: exit 1, left out" "[ $? = 1 ] && grep -q 'no photo to measure (1 left out)' $tmp/small.txt"
$PY $TOOL "$tmp/truth" "$tmp/empty" > "$tmp/none.txt" 2>&1
check "no prediction: exit 1, left out" "[ $? = 1 ] && grep -q '(1 left out)' $tmp/none.txt"
$PY $TOOL --every x "$tmp/truth" > "$tmp/bad.txt" 2>&1
check "bad --every: exit 2, usage" "[ $? = 2 ] && grep -q 'usage: shade-hue.py' $tmp/bad.txt"
$PY $TOOL "$tmp/missing" > "$tmp/bad2.txt" 2>&1
check "bad folder: exit 2, usage" "[ $? = 2 ] && grep -q 'usage: shade-hue.py' $tmp/bad2.txt"
finish
