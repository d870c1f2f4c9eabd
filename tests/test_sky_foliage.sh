#!/bin/sh
# tools/sky-foliage.py on made-up photos (a blue sky over green grass):
# a prediction equal to the truth reads 100 % the same colour at chroma
# 1.00; a grey one 100 % grey; sky and grass swapped 100 % another hue;
# brown grass under the right sky reads the sky right and the grass
# another hue; blue in the lower half is not sky; a green face is green
# elsewhere; a prediction without its truth and a bad argument fail
# with a message.  Skipped (and said so) without numpy.
NAME=test_sky_foliage
TOOL=tools/sky-foliage.py
. tests/pytool.sh
for d in truth same grey swap brown none nonep; do mkdir -p "$tmp/$d"; done
SKY='rgb(110,160,220)' GRASS='rgb(60,130,50)' BROWN='rgb(130,100,60)'
two () { # top colour, bottom colour, file
  convert -size 64x64 xc:"$1" -fill "$2" -draw 'rectangle 0,32 63,63' -quality 100 "$3"
}
two "$SKY" "$GRASS" "$tmp/truth/p.jpg"
convert "$tmp/truth/p.jpg" "$tmp/same/p.png"
convert "$tmp/truth/p.jpg" -colorspace Gray -colorspace sRGB -type TrueColor "$tmp/grey/p.png"
two "$GRASS" "$SKY" "$tmp/swap/p.png"
two "$SKY" "$BROWN" "$tmp/brown/p.png"
# the share fields of one kind's line: same, grey, other
shares () { grep "^$1" "$2" | sed 's/.*same colour \([0-9.]*\) %, grey \([0-9.]*\) %, another hue \([0-9.]*\) %.*/\1 \2 \3/'; }
chroma () { grep "^$1" "$2" | sed 's/.*; chroma \([0-9.]*\) of.*/\1/'; }
for d in same grey swap brown; do $PY $TOOL "$tmp/$d" "$tmp/truth" > "$tmp/$d.txt" 2>&1; echo $? > "$tmp/$d.rc"; done
check "same: exit 0" "[ $(cat $tmp/same.rc) = 0 ]"
check "same: one photo" "grep -q '^photos 1 (left out 0)' $tmp/same.txt"
check "same: 2048 sky pixels" "grep -q '^sky (blue, upper half): 1 photos, 2048 pixels' $tmp/same.txt"
check "same: sky all blue" "[ \"$(shares sky $tmp/same.txt)\" = '100.0 0.0 0.0' ]"
check "same: grass all green" "[ \"$(shares foliage $tmp/same.txt)\" = '100.0 0.0 0.0' ]"
check "same: chroma 1.00" "[ \"$(chroma sky $tmp/same.txt) $(chroma foliage $tmp/same.txt)\" = '1.00 1.00' ]"
check "grey: all grey" "[ \"$(shares sky $tmp/grey.txt) $(shares foliage $tmp/grey.txt)\" = '0.0 100.0 0.0 0.0 100.0 0.0' ]"
check "swap: all another hue" "[ \"$(shares sky $tmp/swap.txt) $(shares foliage $tmp/swap.txt)\" = '0.0 0.0 100.0 0.0 0.0 100.0' ]"
check "brown: sky blue" "[ \"$(shares sky $tmp/brown.txt)\" = '100.0 0.0 0.0' ]"
check "brown: grass another hue" "[ \"$(shares foliage $tmp/brown.txt)\" = '0.0 0.0 100.0' ]"
check "brown: lowest names the photo" "grep -q '^  lowest: p 0.0 %' $tmp/brown.txt"
# a skin-coloured photo: neither kind; painted green, every pixel is
# green elsewhere; a prediction without its truth is left out
convert -size 64x64 xc:'rgb(205,150,125)' -quality 100 "$tmp/none/skin.jpg"
convert "$tmp/none/skin.jpg" "$tmp/nonep/skin.png"
$PY $TOOL "$tmp/nonep" "$tmp/none" > "$tmp/none.txt" 2>&1
check "neither: exit 0" "[ $? = 0 ]"
check "neither: no sky" "grep -q '^sky (blue, upper half): no photo with 200 such pixels' $tmp/none.txt"
check "neither: no foliage" "grep -q '^foliage (green): no photo with 200 such pixels' $tmp/none.txt"
check "neither: no green elsewhere" "grep -q '^  foliage colour elsewhere: 0.0 % of the 4096 pixels' $tmp/none.txt"
mkdir -p "$tmp/greenp"
convert -size 64x64 xc:"$GRASS" "$tmp/greenp/skin.png"
$PY $TOOL "$tmp/greenp" "$tmp/none" > "$tmp/green.txt" 2>&1
check "green face: all green elsewhere" "grep -q '^  foliage colour elsewhere: 100.0 % of the 4096 pixels' $tmp/green.txt"
check "green face: no blue elsewhere" "grep -q '^  sky colour elsewhere: 0.0 % of the 2048 pixels' $tmp/green.txt"
check "swap: blue where the grass is" "grep -q '^  sky colour elsewhere: 0.0 % of the 0 pixels' $tmp/swap.txt && grep -q '^  foliage colour elsewhere: 100.0 % of the 2048 pixels' $tmp/swap.txt"
mkdir -p "$tmp/orphan"
convert "$tmp/truth/p.jpg" "$tmp/orphan/q.png"
$PY $TOOL "$tmp/orphan" "$tmp/truth" > "$tmp/orphan.txt" 2>&1
check "no truth: exit 1" "[ $? = 1 ]"
check "no truth: says so" "grep -q 'no photo readable beside .*(1 left out)' $tmp/orphan.txt"
$PY $TOOL "$tmp/same" "$tmp/missing" > "$tmp/bad.txt" 2>&1
check "bad folder: exit 2" "[ $? = 2 ]"
check "bad folder: usage" "grep -q 'usage: sky-foliage.py' $tmp/bad.txt"
finish
