#!/bin/sh
# test_gegl.sh - the GEGL operations (plugin/gegl/): colorize:resnet18,
# colorize:cnn and their -hints composers, through real outside tools:
#
# - make install puts the module and the bundled weights into GEGL's user
#   plug-in folder ($XDG_DATA_HOME or ~/.local/share, gegl-0.4/plug-ins/
#   colorize/), PREFIX and DESTDIR into GEGL's system folder;
# - Debian's `gegl` tool (`gegl IN -o OUT -- colorize:resnet18 ...`)
#   against `colorize-train apply` on the same photos, both with
#   BABL_TOLERANCE=0 (babl's reference conversions in every process):
#   the gegl tool through an 8-bit PNG sink gives the same 8-bit pixels,
#   all of them (both models, a JPEG, low and high strength, working
#   size, hints, hints only, strength 0: one gamut mapping, nn/gamut.h,
#   on both sides); its default -o (a 16-bit PNG) gives them to within
#   the 16-bit rounding; L is the photo's, alpha passed through exactly; bad weights files and properties are named in the warning,
#   and the output is the input, unchanged;
# - tests/gegl/cache.c: tiled renders compute once, a new strength once
#   more (COLORIZE_VERBOSE lines counted);
# - GIMP 3.0.4 in the Debian 13 root (.ci/gimp3-root.sh): the operation as
#   a non-destructive filter through libgimp's GimpDrawableFilter
#   (tests/gegl/nde-gimp3.c): the filter stays on the layer, whose own
#   pixels are unchanged, until merged; its pixels are the plug-in's
#   plug-in-colorize-resnet18, byte for byte; the -hints operations are
#   refused as NDE filters ("effects with an 'aux' pad cannot be applied
#   non-destructively", GIMP's app/pdb/drawable-cmds.c).
#
# Ends with the line "N passed, N failed"; exits 1 when any failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$(pwd)
OUT=$ROOT/$BUILD/tests/gegl
PASS=0
FAIL=0

ok ()    { echo "ok - $*"; PASS=$((PASS + 1)); }
notok () { echo "not ok - $*"; FAIL=$((FAIL + 1)); }
finish () { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; exit $?; }
# expect DESCRIPTION COMMAND...: passes when the command succeeds.
expect () {
  what=$1; shift
  if "$@" > /dev/null 2>&1; then ok "$what"; else notok "$what"; fi
}

rm -rf "$OUT"
mkdir -p "$OUT"
unset OPENBLAS_CORETYPE GEGL_PATH
export BABL_TOLERANCE=0

# ---- build ------------------------------------------------------------------
if ! make -s BUILD="$BUILD" gegl trainer > "$OUT/make.log" 2>&1; then
  cat "$OUT/make.log"; notok "build the module and the trainer (make gegl trainer)"; finish
fi
GFLAGS="$(pkg-config --cflags gegl-0.4 | sed 's/-I/-isystem /g')"
for t in gegl-diff cache; do
  cc -O2 -Wall -Wextra -Werror -std=c11 $GFLAGS "tests/gegl/$t.c" -o "$OUT/$t" \
     $(pkg-config --libs gegl-0.4) -lm ||
    { notok "build tests/gegl/$t.c"; finish; }
done

# ---- make install -------------------------------------------------------------
# install_case NAME WANT-DIR VAR=VALUE...: make install-gegl puts
# colorize.so and the bundled weights into WANT-DIR, nothing elsewhere.
install_case () {
  name=$1 want=$2; shift 2
  rm -rf "$OUT/inst"; mkdir -p "$OUT/inst/home"
  if ! env -u XDG_DATA_HOME -u PREFIX -u DESTDIR HOME="$OUT/inst/home" "$@" \
       make -s --no-print-directory BUILD="$BUILD" install-gegl > "$OUT/inst.log" 2>&1; then
    cat "$OUT/inst.log"; notok "install $name: make install-gegl"; return
  fi
  expect "install $name: the module is $want/colorize.so" test -f "$want/colorize.so"
  for w in weights/*.weights; do
    expect "install $name: $(basename "$w") beside it" cmp "$w" "$want/weights/$(basename "$w")"
  done
  n=$(find "$OUT/inst" -name colorize.so | wc -l)
  [ "$n" = 1 ] && ok "install $name: no module anywhere else" ||
    notok "install $name: no module anywhere else ($n found)"
}
PLUGINSDIR=$(pkg-config --variable=pluginsdir gegl-0.4)
PCPREFIX=$(pkg-config --variable=prefix gegl-0.4)
install_case default "$OUT/inst/home/.local/share/gegl-0.4/plug-ins/colorize"
install_case XDG_DATA_HOME "$OUT/inst/xdg/gegl-0.4/plug-ins/colorize" XDG_DATA_HOME="$OUT/inst/xdg"
install_case "empty XDG_DATA_HOME" "$OUT/inst/home/.local/share/gegl-0.4/plug-ins/colorize" XDG_DATA_HOME=
install_case DESTDIR "$OUT/inst/stage$PLUGINSDIR/colorize" DESTDIR="$OUT/inst/stage"
install_case PREFIX "$OUT/inst/prefix${PLUGINSDIR#$PCPREFIX}/colorize" PREFIX="$OUT/inst/prefix"

# The tests' own install, found by GEGL as a user's would be.
DATA=$OUT/data
XDG_DATA_HOME=$DATA make -s --no-print-directory BUILD="$BUILD" install-gegl > "$OUT/inst.log" 2>&1 ||
  { cat "$OUT/inst.log"; notok "make install-gegl XDG_DATA_HOME=$DATA"; finish; }
export XDG_DATA_HOME=$DATA
rm -rf "$OUT/inst"

# ---- the gegl tool against colorize-train apply ------------------------------------
if ! command -v gegl > /dev/null 2>&1; then
  notok "the gegl command-line tool is installed (Debian: apt-get install gegl)"
else
  ops=$(gegl --list-all 2>/dev/null | grep '^colorize:' | tr '\n' ' ')
  [ "$ops" = "colorize:cnn colorize:cnn-hints colorize:resnet18 colorize:resnet18-hints " ] &&
    ok "gegl --list-all lists the four operations ($ops)" ||
    notok "gegl --list-all lists the four operations (found: $ops)"
  . tests/gegl/cli-cases.sh
fi

# ---- caching --------------------------------------------------------------------
convert tests/gimp/samples/castle.png -resize 300% "$OUT/big.png"
COLORIZE_VERBOSE=1 "$OUT/cache" colorize:cnn "$OUT/big.png" > "$OUT/cache.out" 2> "$OUT/cache.err"
h1=$(sed -n 's/^render 1 fnv=//p' "$OUT/cache.out")
h2=$(sed -n 's/^render 2 fnv=//p' "$OUT/cache.out")
h3=$(sed -n 's/^render 3 fnv=//p' "$OUT/cache.out")
h4=$(sed -n 's/^render 4 fnv=//p' "$OUT/cache.out")
n=$(grep -c '^colorize: colorize:cnn 384x576:' "$OUT/cache.err")
[ -n "$h1" ] && [ "$h1" = "$h2" ] && [ "$h2" = "$h3" ] && [ -n "$h4" ] && [ "$h4" != "$h1" ] &&
  ok "cache: three tiled renders agree ($h1), a new strength changes the pixels ($h4)" ||
  notok "cache: renders $h1 $h2 $h3, after the new strength $h4"
[ "$n" = 2 ] && ok "cache: 4 renders in 64x64 tiles computed twice: once, then once for the new strength" ||
  notok "cache: computed $n times for 3 renders and one change (want 2)"

# ---- GIMP 3.0 -------------------------------------------------------------------
. tests/gegl/gimp3-cases.sh
finish
