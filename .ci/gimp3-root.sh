#!/bin/sh
# gimp3-root.sh - a Debian 13 (trixie) root with GIMP 3.0 and its
# development files, for building and testing the GIMP 3 plug-in on a
# Debian 12 machine.  Needs root, debootstrap and the Debian mirror.
#
#   .ci/gimp3-root.sh                  create the root, or reuse it
#   .ci/gimp3-root.sh run CMD [ARG..]  run CMD inside it, in the same
#                                      directory as here; the repository is
#                                      bind-mounted at its own path
#
# The root lives outside the repository, in COLORIZE_GIMP3_ROOT
# (default /var/cache/colorize/gimp3-root).  The Debian mirror is the one
# apt already uses (/etc/apt/sources.list.d/*, /etc/apt/sources.list);
# COLORIZE_DEBIAN_MIRROR overrides it.  /proc, /dev and the repository are
# mounted only while a command runs and are always unmounted afterwards.
# Runs are serialized with a lock beside the root.
set -eu

ROOT=${COLORIZE_GIMP3_ROOT:-/var/cache/colorize/gimp3-root}
SUITE=trixie
PACKAGES="gimp libgimp-3.0-dev libgegl-dev libbabl-dev libopenblas-dev libopenblas-openmp-dev gcc libc6-dev make pkg-config"
REPO=$(cd "$(dirname "$0")/.." && pwd)
STAMP=$ROOT/.colorize-root-ok

die () { echo "gimp3-root: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (chroot, mount)"

find_mirror () {
  if [ -n "${COLORIZE_DEBIAN_MIRROR:-}" ]; then
    echo "$COLORIZE_DEBIAN_MIRROR"; return
  fi
  # deb822 files first, then the one-line format; skip the security archive.
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | awk '/^Types:/ { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
             /^URIs:/ && deb { for (i = 2; i <= NF; i++) print $i }' \
      | grep -v -e security -e '^$' | grep -i debian | head -n 1 || true)
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
        | grep -v security | grep -i debian | head -n 1 || true)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

mounted_under () {
  awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts
}

MOUNTS=""
cleanup () {
  # Unmount in reverse order; a lazy unmount if something still holds it.
  for m in $MOUNTS; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null \
      || echo "gimp3-root: could not unmount $m" >&2
  done
  MOUNTS=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

do_mount () { # do_mount SRC DEST [OPTS..]
  src=$1; dest=$2; shift 2
  mkdir -p "$dest"
  mount "$@" "$src" "$dest"
  MOUNTS="$dest $MOUNTS"
}

mount_system () {
  do_mount proc "$ROOT/proc" -t proc
  do_mount /dev "$ROOT/dev" --bind
}

create_root () {
  command -v debootstrap >/dev/null 2>&1 \
    || die "debootstrap is not installed (apt-get install debootstrap)"
  mirror=$(find_mirror)
  parent=$(dirname "$ROOT")
  mkdir -p "$parent"
  tmp=$ROOT.partial
  [ -z "$(mounted_under "$tmp")" ] || die "something is mounted under $tmp; unmount it first"
  rm -rf "$tmp"
  echo "gimp3-root: debootstrap $SUITE into $tmp from $mirror" >&2
  debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >&2 \
    || die "debootstrap of $SUITE from $mirror failed (see above)"
  [ -z "$(mounted_under "$ROOT")" ] || die "something is mounted under $ROOT; unmount it first"
  rm -rf "$ROOT"
  mv "$tmp" "$ROOT"
}

install_packages () {
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  mount_system
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get update >&2 \
    || die "apt-get update in the $SUITE root failed"
  # shellcheck disable=SC2086
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $PACKAGES >&2 \
    || die "apt-get install in the $SUITE root failed"
  chroot "$ROOT" apt-get clean
  cleanup
  chroot "$ROOT" pkg-config --exists gimp-3.0 gimpui-3.0 \
    || die "pkg-config finds no gimp-3.0 in $ROOT"
  echo "$PACKAGES" > "$STAMP"
}

ensure_root () {
  if [ ! -f "$STAMP" ] || [ ! -x "$ROOT/usr/bin/gimp-console-3.0" ]; then
    [ -x "$ROOT/usr/bin/apt-get" ] || create_root
    install_packages
  elif [ "$(cat "$STAMP")" != "$PACKAGES" ]; then
    install_packages
  fi
}

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9

ensure_root

if [ "${1:-}" = run ]; then
  shift
  [ $# -gt 0 ] || die "run: no command"
  mount_system
  do_mount "$REPO" "$ROOT$REPO" --bind
  if [ -d /tmp/.X11-unix ]; then
    do_mount /tmp/.X11-unix "$ROOT/tmp/.X11-unix" --bind
  fi
  cwd=$(pwd)
  status=0
  chroot "$ROOT" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@" \
    || status=$?
  cleanup
  exit $status
fi
echo "$ROOT"
