#!/bin/sh
# Install every build, test and benchmark dependency of minivmm on a fresh
# Debian 12 machine. Run as root (or through sudo). Idempotent.
set -eu
PKGS="build-essential pkg-config clang llvm lld
      linux-libc-dev libfdt-dev libjson-c-dev liburing-dev libcmocka-dev
      libxxhash-dev
      busybox-static cpio lz4
      linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils
      qemu-system-x86 iproute2 time acpica-tools"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "setup: all dependencies present"
    exit 0
fi
echo "setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
