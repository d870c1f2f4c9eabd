#!/bin/sh
# install.sh - colorize on a fresh Debian 12 (GIMP 2.10) or Debian 13
# (GIMP 3.0): installs the packages it needs with apt, builds the plug-in,
# and installs it with its weights into your GIMP profile (make install).
# Run it as yourself, not with sudo: it uses sudo for apt when you are not
# root, and installs into the profile of the user who runs it.
set -eu
cd "$(dirname "$0")"

say () { echo "install.sh: $*"; }
die () { echo "install.sh: $*" >&2; exit 1; }

if [ "$(id -u)" = 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  die "run ./install.sh as yourself, without sudo: the plug-in goes into the
GIMP profile of the user who runs it, and it calls sudo for apt itself"
fi

# GIMP's own rule (libgimpbase/gimpenv.c), as `make install` follows it:
# GIMPn_DIRECTORY (a relative one under HOME), else
# $XDG_CONFIG_HOME/GIMP/<version>, else ~/.config/GIMP/<version>.
gimp_profile () {
  case $1 in
    /*) echo "$1" ;;
    ?*) echo "$HOME/$1" ;;
    *) echo "${XDG_CONFIG_HOME:-$HOME/.config}/GIMP/$2" ;;
  esac
}

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case $codename in
  bookworm)                               # Debian 12: GIMP 2.10
    gimp_dev=libgimp2.0-dev
    gimp_console=gimp-console-2.10
    profile=$(gimp_profile "${GIMP2_DIRECTORY:-}" 2.10) ;;
  *)                                      # Debian 13: GIMP 3.0
    if [ "$codename" != trixie ]; then
      say "Debian 12 (bookworm) or 13 (trixie) expected, found '$codename';"
      say "trying the GIMP 3.0 packages"
    fi
    gimp_dev=libgimp-3.0-dev
    gimp_console=gimp-console-3.0
    profile=$(gimp_profile "${GIMP3_DIRECTORY:-}" 3.0) ;;
esac

packages="gcc make pkg-config libc6-dev libopenblas-dev libopenblas-openmp-dev libjpeg-dev libgegl-dev libbabl-dev gimp $gimp_dev"
# the gegl command-line tool (the GEGL operations' test, and for users)
packages="$packages gegl"
# for make test: the fuzzer (clang), the GIMP 3.0 root on Debian 12
# (debootstrap), the MPI trainer (OpenMPI), the test fixtures and checks
# (ImageMagick, bc), the trainer's loss plot (gnuplot), tools/*.py (numpy)
packages="$packages clang debootstrap openmpi-bin libopenmpi-dev imagemagick bc gnuplot-nox python3-numpy"

missing=
for p in $packages; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null \
    | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    SUDO=
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    die "apt-get needs root and sudo is not installed; as root, run
  apt-get update && apt-get install --no-install-recommends$missing
then ./install.sh again as yourself"
  fi
  say "apt-get install$missing"
  $SUDO apt-get update
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing
fi

# Only the plug-in (and the network library it links); `make` builds the
# trainer and the tests as well.
say "building the plug-in and the GEGL operations (make plugin gegl)"
make -j2 plugin gegl

# GIMP creates its profile (brushes, gradients, scripts...) on its first
# start only if the profile folder does not exist yet; make install would
# create it with nothing but plug-ins/ in it.  So let GIMP make it first.
if [ ! -d "$profile" ]; then
  say "first start of $gimp_console, so that GIMP creates its profile $profile"
  if [ "$gimp_console" = gimp-console-2.10 ]; then
    set -- -i -b '(gimp-quit 0)'
  else
    set -- -i --quit
  fi
  "$gimp_console" "$@" </dev/null >/dev/null 2>&1 \
    || say "warning: '$gimp_console $*' failed; if GIMP complains about missing data folders, move $profile away and start GIMP once"
fi

make install
say "done; restart GIMP and look in Filters > Colorize, or in Tools > GEGL"
say "Operation for colorize:resnet18 (a non-destructive filter in GIMP 3.0)"
