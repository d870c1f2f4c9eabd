#!/bin/sh
# tools/skin-tone.py on made-up photos: a prediction equal to the truth
# reads hue difference 0 and chroma ratio 1.00; one with the truth's
# colours 1.5 times as vivid reads a ratio near 1.5 at the same hue; a
# grey one reads 0.00; photos with a comment read as any other; a folder
# without skin-like pixels and a bad argument fail with a message.
# Skipped (and said so) without numpy.
NAME=test_skin_tone
TOOL=tools/skin-tone.py
. tests/pytool.sh
mkdir -p "$tmp/truth" "$tmp/same" "$tmp/vivid" "$tmp/grey" "$tmp/none" "$tmp/nonep"
# a skin-coloured square on grey, lossless JPEG-free truth (quality 100)
convert -size 64x64 xc:'rgb(128,128,128)' -fill 'rgb(205,150,125)' \
  -draw 'rectangle 8,8 55,55' -quality 100 "$tmp/truth/face.jpg"
convert "$tmp/truth/face.jpg" "$tmp/same/face.png"
convert "$tmp/truth/face.jpg" -colorspace Lab -channel G,B -fx '0.5 + 1.5 * (u - 0.5)' \
  +channel -colorspace sRGB "$tmp/vivid/face.png"
convert "$tmp/truth/face.jpg" -colorspace Gray -colorspace sRGB -type TrueColor "$tmp/grey/face.png"
field () { sed -n "s/.*$1 \([-+0-9.]*\).*/\1/p" "$2"; }
$PY $TOOL "$tmp/same" "$tmp/truth" > "$tmp/same.txt" 2>&1
check "same: exit 0" "[ $? = 0 ]"
check "same: one photo" "grep -q '^photos 1 (left out 0)' $tmp/same.txt"
check "same: hue difference 0" "[ \"$(field 'hue difference' $tmp/same.txt)\" = '+0.0' ]"
check "same: chroma ratio 1.00" "[ \"$(field 'chroma ratio' $tmp/same.txt)\" = '1.00' ]"
$PY $TOOL "$tmp/vivid" "$tmp/truth" > "$tmp/vivid.txt" 2>&1
r=$(field 'chroma ratio' "$tmp/vivid.txt") h=$(field 'hue difference' "$tmp/vivid.txt")
check "vivid: ratio $r in 1.35..1.65" "awk 'BEGIN { exit !($r >= 1.35 && $r <= 1.65) }'"
check "vivid: hue difference $h within 3 degrees" "awk 'BEGIN { exit !($h >= -3 && $h <= 3) }'"
$PY $TOOL "$tmp/grey" "$tmp/truth" > "$tmp/grey.txt" 2>&1
check "grey: chroma ratio 0.0x" "field 'chroma ratio' $tmp/grey.txt | grep -q '^0.0'"
# images with a comment (ImageMagick passes it into the PPM header)
mkdir -p "$tmp/ctruth" "$tmp/csame"
convert "$tmp/truth/face.jpg" -set comment 'scanned 1974' "$tmp/csame/face.png"
convert "$tmp/csame/face.png" -set comment 'scanned 1974' -quality 100 "$tmp/ctruth/face.jpg"
$PY $TOOL "$tmp/csame" "$tmp/ctruth" > "$tmp/comment.txt" 2>&1
check "comment: exit 0" "[ $? = 0 ]"
check "comment: one photo" "grep -q '^photos 1 (left out 0)' $tmp/comment.txt"
check "comment: chroma ratio near 1" "field 'chroma ratio' $tmp/comment.txt | grep -q '^1.0[0-2]$\\|^0.9[89]$'"
convert -size 64x64 xc:'rgb(40,90,200)' -quality 100 "$tmp/none/sky.jpg"
convert "$tmp/none/sky.jpg" "$tmp/nonep/sky.png"
$PY $TOOL "$tmp/nonep" "$tmp/none" > "$tmp/none.txt" 2>&1
check "no skin: exit 1" "[ $? = 1 ]"
check "no skin: says so" "grep -q 'no photo with skin-like pixels (1 left out)' $tmp/none.txt"
$PY $TOOL "$tmp/same" "$tmp/missing" > "$tmp/bad.txt" 2>&1
check "bad folder: exit 2" "[ $? = 2 ]"
check "bad folder: usage" "grep -q 'usage: skin-tone.py' $tmp/bad.txt"
finish
