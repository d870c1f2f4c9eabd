#!/bin/sh
# install.sh - colorize on a fresh Debian 12 (GIMP 2.10) or Debian 13
# (GIMP 3.0): installs the packages it needs with apt, builds, and
# installs the plug-in and its weights into your GIMP profile
# (make install).  Run it as yourself; it uses sudo for apt when you are
# not root.
set -eu
cd "$(dirname "$0")"

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case $codename in
  bookworm) gimp_dev=libgimp2.0-dev ;;    # Debian 12: GIMP 2.10
  trixie)   gimp_dev=libgimp-3.0-dev ;;   # Debian 13: GIMP 3.0
  *)
    echo "install.sh: Debian 12 (bookworm) or 13 (trixie) expected, found '$codename';"
    echo "install.sh: trying the GIMP 3.0 packages"
    gimp_dev=libgimp-3.0-dev ;;
esac

packages="gcc make pkg-config libc6-dev libopenblas-dev libopenblas-openmp-dev libjpeg-dev libgegl-dev libbabl-dev gimp $gimp_dev"
# for make test: the fuzzer (clang), the GIMP 3.0 root on Debian 12
# (debootstrap), the MPI trainer (OpenMPI)
packages="$packages clang debootstrap openmpi-bin libopenmpi-dev"
echo "install.sh: apt-get install $packages"
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends $packages

make -j2
make install
echo "install.sh: done; restart GIMP and look in Filters > Colorize"
