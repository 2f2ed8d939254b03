#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 150
# The guest programs the virtio-iommu (--viommu virtio) itself (virtio
# payload, test=viommu; tests/guest/virtio/test_viommu.c) with a vfu-blk
# disk as its endpoint: PROBE shows the MSI window; in bypass DMA is 1:1;
# attached to a domain, a buffer mapped at IOVA 0x7f0000000000 is written
# to and read from the disk and the data lands at the buffer's GPA; after
# UNMAP the same IOVA is refused; after DETACH bypass works again. Run with
# dma=fd (guest MAPs become DMA_MAP with the memfd at the guest's IOVA)
# and dma=message (windows of the client's IOMMU; vfu-blk refuses the
# unmapped IOVA itself, from its own DMA table, so no DMA_WRITE reaches
# minivmm to be reported: fault reports are checked with an in-VMM disk,
# payload_viommu_disk.sh). Checks the sectors in the host file.
: "${BUILD:=build}"
name=payload_viommu_vfio
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-blk" ] || { echo "$name: no vfu-blk" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

run_one() { # mode extra-vfio-options extra-cmdline
    rm -f "$dir/s.sock"
    truncate -s 0 "$dir/d.img"; truncate -s 1M "$dir/d.img"
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
    [ -S "$dir/s.sock" ] || fail "$1: vfu-blk did not create its socket"
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --viommu virtio --vfio-user socket="$dir/s.sock$2" \
        --cmdline "test=viommu$3" </dev/null >"$dir/out" 2>&1
    rc=$?
    kill "$srv"; wait "$srv" 2>/dev/null; srv=
    tr -d '\r' <"$dir/out"
    [ "$rc" -eq 0 ] || fail "$1: minivmm exited $rc, want 0"
    tr -d '\r' <"$dir/out" | grep -qx "PASS viommu" || fail "$1: no 'PASS viommu'"
    for s in 0 1 2; do
        got=$(dd if="$dir/d.img" bs=512 skip=$s count=1 2>/dev/null |
              head -c 15)
        [ "$got" = "VIOMMU sector $s" ] ||
            fail "$1: sector $s of the host file holds '$got'"
    done
}

run_one fd "" ""
tr -d '\r' <"$dir/out" | grep -q "landed at GPA 0xa001000" ||
    fail "fd: no DMA through the far IOVA"
run_one message ",dma=message" ""
echo "$name: guest MAP/UNMAP reach vfu-blk (dma=fd and dma=message)," \
     "unmapped IOVA refused, bypass works"
exit 0
