#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install every build, test and benchmark dependency of minivmm on a fresh
# Debian 12 machine. Run as root, or as a user with sudo. Idempotent.
#
# It also adds a deb-src entry derived from the machine's own Debian sources
# (same mirrors, suites and keyring; Types: deb-src), so that
# `make check-interop` can fetch Debian's qemu source package for the
# third-party vfio-user peers (tests/interop/build-peers.sh).
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
SRCLIST=/etc/apt/sources.list.d/minivmm-deb-src.sources
PKGS="build-essential pkg-config clang llvm lld
      linux-libc-dev libfdt-dev libjson-c-dev liburing-dev libcmocka-dev
      libxxhash-dev libseccomp-dev
      busybox-static cpio lz4
      linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils
      qemu-system-x86 iproute2 time acpica-tools
      meson ninja-build dpkg-dev python3-jsonschema
      man-db groff-base"

# deb822 stanzas with Types: deb-src for every Debian archive (URIs .../debian*)
# in the deb822 sources and the one-line /etc/apt/sources.list.
derive_deb_src() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && [ "$f" != "$SRCLIST" ] || continue
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && /URIs:[^\n]*\/debian/ {
                 sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
    done
    [ -f /etc/apt/sources.list ] || return 0
    awk '$1 == "deb" && /\/debian/ {
             i = 2; opts = "";
             if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ }
                               opts = opts " " $i; i++ }
             printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $i, $(i + 1)
             for (j = i + 2; j <= NF; j++) printf " %s", $j
             if (opts ~ /signed-by=/) {
                 sub(/.*signed-by=/, "", opts); sub(/[ \]].*/, "", opts)
                 printf "\nSigned-By: %s", opts }
             printf "\n\n" }' /etc/apt/sources.list
}

add_deb_src() {
    if grep -rqsE '^(deb-src |Types:.*deb-src)' /etc/apt/sources.list \
            /etc/apt/sources.list.d/; then
        return 0
    fi
    stanzas=$(derive_deb_src)
    if [ -z "$stanzas" ]; then
        echo "setup: no Debian archive in the apt sources; make check-interop will skip"
        return 0
    fi
    echo "setup: adding $SRCLIST (deb-src for Debian's qemu source package)"
    printf '%s\n' "$stanzas" | $SUDO tee "$SRCLIST" >/dev/null
    $SUDO apt-get update -q ||
        echo "setup: apt-get update failed; make check-interop may skip"
}

add_deb_src
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
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
