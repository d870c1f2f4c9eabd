# gimp3-cases.sh - the GIMP 3.0 cases of tests/test_gegl.sh (sourced
# there): in the Debian 13 root of .ci/gimp3-root.sh, the module and the
# plug-in built there, installed into a throw-away profile and data home;
# tests/gegl/nde-gimp3.c applies the operations through libgimp 3.0's
# GimpDrawableFilter, and plug-in-colorize-* colorizes the same photos.
G3=$OUT/gimp3
B3=$BUILD/gimp3
mkdir -p "$G3"
cat > "$G3/run.sh" <<RUN
set -u
make -s BUILD='$B3' plugin gegl > '$G3/make.log' 2>&1 || { cat '$G3/make.log'; exit 1; }
cc -O2 -Wall -Wextra -Werror -std=c11 \$(pkg-config --cflags gimp-3.0 | sed 's/-I/-isystem /g') \
  tests/gegl/nde-gimp3.c -o '$G3/nde-gimp3' \$(pkg-config --libs gimp-3.0) || exit 1
mkdir -p '$G3/profile/plug-ins/colorize/weights' '$G3/profile/plug-ins/test-colorize-nde'
cp '$B3/plugin-gimp3/colorize' '$G3/profile/plug-ins/colorize/'
cp weights/*.weights '$G3/profile/plug-ins/colorize/weights/'
cp '$G3/nde-gimp3' '$G3/profile/plug-ins/test-colorize-nde/test-colorize-nde'
XDG_DATA_HOME='$G3/data' make -s --no-print-directory BUILD='$B3' install-gegl > '$G3/install.log' 2>&1 || exit 1
XDG_DATA_HOME='$G3/data' GIMP3_DIRECTORY='$G3/profile' COLORIZE_VERBOSE=1 BABL_TOLERANCE=0 \
  BABL_INHIBIT_CACHE=1 timeout 600 gimp-console-3.0 -i -d -f \
  --batch-interpreter=plug-in-script-fu-eval -b "\$(cat '$G3/session.scm')" --quit \
  > '$G3/session.log' 2>&1
echo \$? > '$G3/session.rc'
RUN
# nde NAME PHOTO OP STRENGTH: the filter on an RGB copy of PHOTO;
# plugin NAME PHOTO PROC STRENGTH: the plug-in's layer.
nde () {
  echo "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/$2\")))
         (drw (vector-ref (car (gimp-image-get-layers img)) 0)))
    (gimp-image-convert-rgb img)
    (test-colorize-nde RUN-NONINTERACTIVE img drw \"$3\" $4 -1 \"$G3/$1\")
    (gimp-image-delete img))"
}
plugin () {
  echo "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$ROOT/tests/gimp/samples/$2\")))
         (drw (vector-ref (car (gimp-image-get-layers img)) 0)))
    ($3 RUN-NONINTERACTIVE img (vector drw) 0 $4 \"\" -1.0)
    (test-colorize-nde-dump RUN-NONINTERACTIVE
       (vector-ref (car (gimp-image-get-layers img)) 0) \"$G3/$1-plugin.raw\")
    (gimp-image-delete img))"
}
{
  nde r18 castle.png colorize:resnet18 1.2
  plugin r18 castle.png plug-in-colorize-resnet18 1.2
  nde cnn hills.png colorize:cnn 1.0
  plugin cnn hills.png plug-in-colorize-cnn 1.0
  nde hints castle.png colorize:resnet18-hints 1.0
} > "$G3/session.scm"

if .ci/gimp3-root.sh run sh "$G3/run.sh" > "$G3/root.log" 2>&1 &&
   [ "$(cat "$G3/session.rc" 2>/dev/null)" = 0 ]; then
  ok "GIMP 3.0: build in the Debian 13 root and run one gimp-console-3.0 session"
else
  cat "$G3/root.log" "$G3/session.log" 2>/dev/null | tail -n 30
  notok "GIMP 3.0: build in the Debian 13 root and run one gimp-console-3.0 session"
fi
# fact NAME LINE: PREFIX.txt has the line.
fact () { grep -qx -- "$2" "$G3/$1.txt" 2>/dev/null; }
for c in r18:colorize:resnet18:castle cnn:colorize:cnn:hills; do
  n=${c%%:*} rest=${c#*:}; op=${rest%:*}; photo=${rest##*:}
  expect "GIMP 3.0: gimp_drawable_filter_new ($op) succeeds" fact $n "new ok"
  expect "GIMP 3.0: $op appended: gimp_drawable_get_filters has it, alone" fact $n "filters 1 $op"
  expect "GIMP 3.0: $op: the layer's own pixels are unchanged while the filter is on it" fact $n "unchanged 1"
  expect "GIMP 3.0: $op: still on the layer after a duplicate of the image merged its copy" fact $n "live-filters 1"
  expect "GIMP 3.0: $op: gone from the layer after gimp_drawable_merge_filters" fact $n "merged-filters 0"
  expect "GIMP 3.0: $op on $photo: the live filter's pixels are the plug-in's, byte for byte" \
    cmp "$G3/$n-live.raw" "$G3/$n-plugin.raw"
  expect "GIMP 3.0: $op on $photo: the merged layer's pixels are the plug-in's, byte for byte" \
    cmp "$G3/$n-merged.raw" "$G3/$n-plugin.raw"
  if cmp -s "$G3/$n-before.raw" "$G3/$n-merged.raw"; then
    notok "GIMP 3.0: $op: merging changed the layer (it is still grey)"
  else
    ok "GIMP 3.0: $op: merging changed the layer's pixels"
  fi
  expect "GIMP 3.0: $op ran in GIMP's own process (its COLORIZE_VERBOSE line)" \
    grep -q "^colorize: $op [0-9]*x[0-9]*: weights loaded" "$G3/session.log"
done
expect "GIMP 3.0: colorize:resnet18-hints: the filter is made" fact hints "new ok"
expect "GIMP 3.0: colorize:resnet18-hints (an aux pad) is not appended as a non-destructive filter" \
  fact hints "filters 0 -"
expect "GIMP 3.0: and GIMP says why: effects with an 'aux' pad cannot be applied non-destructively" \
  grep -q "effects with an 'aux' pad cannot be applied non-destructively" "$G3/session.log"
