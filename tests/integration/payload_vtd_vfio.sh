#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 150
# The guest programs the VT-d unit (--viommu intel) itself (virtio
# payload, test=vtd; tests/guest/virtio/test_vtd.c) with a vfu-blk disk
# as its endpoint: it finds the unit through the DMAR table, checks
# VER/CAP/ECAP (SAGAW and MGAW for aw-bits 48, caching mode, queued
# invalidation), writes sector 0 with translation off (identity), builds
# the root/context/second-level tables (DMA area 1:1, two 4 KiB pages at
# IOVA 0x7f0000000000 onto buffers at 160 MiB, a 2 MiB page), invalidates
# through the queue and turns translation on: sector 1 is written from and
# read back into the far IOVA and the data lands at the buffers' GPAs
# (the unit's invalidation walk became DMA_MAPs at the guest's IOVAs;
# with dma=fd also a 1 GiB page at IOVA 0x7f0040000000 onto GPA 0, in a
# 1280M guest);
# after the far pages' entries are cleared and invalidated page-
# selectively a read into them fails (DMA_UNMAP reached the server);
# translation off, sector 2 is written through the identity map again.
# Run with dma=fd and dma=message (vfu-blk then refuses the unmapped IOVA
# itself, from its own DMA table, so no DMA_WRITE reaches minivmm to be
# recorded as a fault: fault records are checked with an in-VMM disk,
# payload_vtd_disk.sh). Checks the sectors in the host file.
: "${BUILD:=build}"
name=payload_vtd_vfio
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-blk" ] || { echo "$name: no vfu-blk" >&2; exit 77; }
"$BUILD/minivmm" --help 2>&1 | grep -qw intel ||
    { echo "$name: minivmm has no --viommu intel" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

run_one() { # mode extra-vfio-options memory extra-cmdline
    rm -f "$dir/s.sock"
    truncate -s 0 "$dir/d.img"; truncate -s 1M "$dir/d.img"
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
    [ -S "$dir/s.sock" ] || fail "$1: vfu-blk did not create its socket"
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory "$3" \
        --viommu intel --vfio-user socket="$dir/s.sock$2" \
        --cmdline "test=vtd$4" </dev/null >"$dir/out" 2>&1
    rc=$?
    kill "$srv"; wait "$srv" 2>/dev/null; srv=
    tr -d '\r' <"$dir/out"
    [ "$rc" -eq 0 ] || fail "$1: minivmm exited $rc, want 0"
    tr -d '\r' <"$dir/out" | grep -qx "PASS vtd" || fail "$1: no 'PASS vtd'"
    tr -d '\r' <"$dir/out" |
        grep -q "SAGAW 0x[46] MGAW 48 CM 1 .* QI 1" ||
        fail "$1: CAP/ECAP line missing"
    tr -d '\r' <"$dir/out" |
        grep -q "IOVA 0x7f0000001000 landed at GPA 0xa001000, 2 MiB page" ||
        fail "$1: no DMA through the far IOVA"
    for s in 0 1 2; do
        got=$(dd if="$dir/d.img" bs=512 skip=$s count=1 2>/dev/null |
              head -c 12)
        [ "$got" = "VTD sector $s" ] ||
            fail "$1: sector $s of the host file holds '$got'"
    done
}

run_one fd "" 1280M " vtd-1g=1"
tr -d '\r' <"$dir/out" |
    grep -q "IOVA 0x7f004a004000 (1 GiB page) landed at GPA 0xa004000" ||
    fail "fd: no DMA through the 1 GiB page"
# The same 1 GiB page in a 256 MiB guest runs past the end of RAM: the
# server gets the RAM part, the rings stay mapped.
run_one fd-small "" 256M " vtd-1g=1"
tr -d '\r' <"$dir/out" |
    grep -q "IOVA 0x7f004a004000 (1 GiB page) landed at GPA 0xa004000" ||
    fail "fd-small: no DMA through a 1 GiB page larger than RAM"
run_one message ",dma=message" 256M ""
echo "$name: the guest's VT-d tables reach vfu-blk (dma=fd and" \
     "dma=message), far IOVA and 2 MiB page land at their GPAs, cleared" \
     "entries refused after a page-selective invalidation, identity with" \
     "translation off"
exit 0
