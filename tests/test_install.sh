#!/bin/sh
# test_install.sh - where `make install` puts the plug-in: the user's GIMP
# profile as GIMP finds it (gimp_directory in GIMP's libgimpbase/gimpenv.c):
# GIMP3_DIRECTORY / GIMP2_DIRECTORY (absolute, or relative to $HOME), else
# $XDG_CONFIG_HOME/GIMP/<3.0|2.10>, else $HOME/.config/GIMP/<version>.
# Installs into throw-away folders only (HOME and XDG_CONFIG_HOME point
# into build/tests/install), for each GIMP whose development files are here
# (GIMP 2.10 natively; GIMP 3.0 only where pkg-config finds gimp-3.0).
# Ends with the line "N passed, N failed"; exits 1 when any failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
T=$(pwd)/$BUILD/tests/install
PASS=0
FAIL=0

ok ()    { echo "ok - $*"; PASS=$((PASS + 1)); }
notok () { echo "not ok - $*"; FAIL=$((FAIL + 1)); }

versions=""
pkg-config --exists gimp-2.0 gimpui-2.0 2>/dev/null && versions="$versions 2.10"
pkg-config --exists gimp-3.0 gimpui-3.0 2>/dev/null && versions="$versions 3.0"
if [ -z "$versions" ]; then
  notok "no GIMP development files found (pkg-config gimp-2.0 / gimp-3.0)"
  echo "$PASS passed, $FAIL failed"; exit 1
fi

# install_case NAME WANT-PROFILE VAR=VALUE...: make install with those
# variables (GIMP2_DIRECTORY and GIMP3_DIRECTORY unset unless given) must
# put plug-ins/colorize/colorize, executable, under WANT-PROFILE/<version>
# or, when WANT-PROFILE ends with '/', WANT-PROFILE itself; and nothing
# anywhere else under $T.
install_case () {
  name=$1 want=$2; shift 2
  rm -rf "$T"
  mkdir -p "$T/home"
  if ! env -u GIMP2_DIRECTORY -u GIMP3_DIRECTORY -u XDG_CONFIG_HOME \
         -u OPENBLAS_CORETYPE -u PREFIX -u DESTDIR HOME="$T/home" "$@" \
         make -s --no-print-directory BUILD="$BUILD" install \
         > "$T.log" 2>&1; then
    cat "$T.log"
    notok "$name: make install"
    return
  fi
  for v in $versions; do
    case $want in
      */) dir=${want}plug-ins/colorize ;;
      *)  dir=$want/$v/plug-ins/colorize ;;
    esac
    [ -x "$dir/colorize" ] &&
      ok "$name: GIMP $v: the plug-in is in $dir" ||
      notok "$name: GIMP $v: the plug-in is in $dir"
  done
  n=$(find "$T" -type f -name colorize | wc -l)
  set -- $versions
  [ "$n" = $# ] && ok "$name: no plug-in installed anywhere else ($n found)" ||
    notok "$name: no plug-in installed anywhere else (want $#, found $n: $(find "$T" -type f -name colorize))"
}

install_case "default" "$T/home/.config/GIMP"
install_case "XDG_CONFIG_HOME" "$T/xdg/GIMP" XDG_CONFIG_HOME="$T/xdg"
install_case "empty XDG_CONFIG_HOME" "$T/home/.config/GIMP" XDG_CONFIG_HOME=
for v in $versions; do
  case $v in 2.10) var=GIMP2_DIRECTORY ;; *) var=GIMP3_DIRECTORY ;; esac
  # One version moved: the other stays in XDG_CONFIG_HOME.
  rm -rf "$T"
  mkdir -p "$T/home"
  env -u GIMP2_DIRECTORY -u GIMP3_DIRECTORY -u OPENBLAS_CORETYPE \
    HOME="$T/home" XDG_CONFIG_HOME="$T/xdg" "$var=$T/profile-$v" \
    make -s --no-print-directory BUILD="$BUILD" install > "$T.log" 2>&1 ||
    { cat "$T.log"; notok "$var: make install"; continue; }
  [ -x "$T/profile-$v/plug-ins/colorize/colorize" ] &&
    ok "$var (absolute) wins over XDG_CONFIG_HOME for GIMP $v" ||
    notok "$var (absolute) wins over XDG_CONFIG_HOME for GIMP $v"
  for o in $versions; do
    [ "$o" = "$v" ] && continue
    [ -x "$T/xdg/GIMP/$o/plug-ins/colorize/colorize" ] &&
      ok "$var: GIMP $o still goes to XDG_CONFIG_HOME" ||
      notok "$var: GIMP $o still goes to XDG_CONFIG_HOME"
  done
  rm -rf "$T"
  mkdir -p "$T/home"
  env -u GIMP2_DIRECTORY -u GIMP3_DIRECTORY -u OPENBLAS_CORETYPE \
    HOME="$T/home" XDG_CONFIG_HOME="$T/xdg" "$var=rel-$v" \
    make -s --no-print-directory BUILD="$BUILD" install > "$T.log" 2>&1 ||
    { cat "$T.log"; notok "$var relative: make install"; continue; }
  [ -x "$T/home/rel-$v/plug-ins/colorize/colorize" ] &&
    ok "$var relative is under HOME for GIMP $v" ||
    notok "$var relative is under HOME for GIMP $v"
done
# The bundled weights go with the plug-in.
install_case "weights" "$T/xdg/GIMP" XDG_CONFIG_HOME="$T/xdg"
for v in $versions; do
  for w in weights/*.weights; do
    [ -f "$w" ] || continue
    cmp -s "$w" "$T/xdg/GIMP/$v/plug-ins/colorize/weights/$(basename "$w")" &&
      ok "GIMP $v: $(basename "$w") installed beside the plug-in" ||
      notok "GIMP $v: $(basename "$w") installed beside the plug-in"
  done
done
rm -rf "$T"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
