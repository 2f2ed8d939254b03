#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Build the third-party vfio-user peers of the interop suite into build/peers/
# from Debian's own `qemu` source package (bookworm, 7.2), which carries
# libvfio-user (2022, spec 0.9.1 region-based migration) in
# subprojects/libvfio-user. Nothing of it is copied into the project: the
# source package is fetched with `apt-get source` (tools/setup.sh adds the
# deb-src entry) and built with Debian's meson and ninja.
#
# Usage: tests/interop/build-peers.sh [--out DIR]     (default build/peers)
# Outputs (DIR/...):
#   src/qemu-7.2.0/                 the unpacked source package (cached)
#   libvfio-user/lib/libvfio-user.so.0, libvfio-user/samples/{server,null,
#   gpio-pci-idio-16,client,lspci}  libvfio-user and its samples
#   include/                        libvfio-user's headers (for our own
#                                   libvfio-user-based test servers)
#   .stamp                          present when everything above is built
# Exit: 0 built (or up to date), 77 the source package cannot be had here
# (the reason on stderr), anything else: a build failure.
set -eu
OUT=build/peers
while [ $# -gt 0 ]; do
    case $1 in
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    *) echo "build-peers: unknown option $1 (usage: build-peers.sh [--out DIR])" >&2; exit 2 ;;
    esac
done
skip() { echo "build-peers: skipped: $*" >&2; exit 77; }
[ -f "$OUT/.stamp" ] && exit 0
for t in apt-get meson ninja dpkg-source; do
    command -v "$t" >/dev/null 2>&1 ||
        skip "$t not installed (run tools/setup.sh)"
done
mkdir -p "$OUT/src"
src=$(ls -d "$OUT"/src/qemu-*/subprojects/libvfio-user 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
    echo "build-peers: fetching Debian's qemu source package (apt-get source qemu)" >&2
    (cd "$OUT/src" && apt-get source --download-only qemu >fetch.log 2>&1) ||
        skip "apt-get source qemu failed (no deb-src entry? run tools/setup.sh; log: $OUT/src/fetch.log)"
    tarball=$(ls "$OUT"/src/qemu_*.orig.tar.* 2>/dev/null | head -n 1)
    [ -n "$tarball" ] || skip "no qemu orig tarball in $OUT/src after apt-get source"
    tar -xf "$tarball" -C "$OUT/src"
    src=$(ls -d "$OUT"/src/qemu-*/subprojects/libvfio-user 2>/dev/null | head -n 1 || true)
    [ -n "$src" ] || skip "the qemu source package carries no subprojects/libvfio-user"
fi
echo "build-peers: building libvfio-user from $src" >&2
rm -rf "$OUT/libvfio-user"
meson setup "$OUT/libvfio-user" "$src" -Dbuildtype=debug >"$OUT/meson.log" 2>&1 ||
    { cat "$OUT/meson.log" >&2; exit 1; }
ninja -C "$OUT/libvfio-user" >"$OUT/ninja.log" 2>&1 ||
    { tail -n 40 "$OUT/ninja.log" >&2; exit 1; }
rm -rf "$OUT/include"
cp -r "$src/include" "$OUT/include"
touch "$OUT/.stamp"
echo "build-peers: libvfio-user built in $OUT/libvfio-user" >&2
