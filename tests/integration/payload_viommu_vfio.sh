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
# VIOMMU=intel runs it with the VT-d unit (payload_vtd_vfio.sh says what
# more is checked there).
: "${BUILD:=build}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_viommu.sh"
viommu_pick payload _vfio
need_kvm
need_bins vfu-blk
need_viommu
make_dir

run_one() { # mode extra-vfio-options memory extra-cmdline
    blk_srv
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory "$3" \
        --viommu "$VIOMMU" --vfio-user socket="$dir/s.sock$2" \
        --cmdline "test=$unit$4" </dev/null >"$dir/out" 2>&1
    rc=$?
    kill "$srv"; wait "$srv" 2>/dev/null; srv=
    passes "$rc" "$dir/out" "$unit" "$1"
    if [ "$VIOMMU" = intel ]; then
        has "$dir/out" "SAGAW 0x[46] MGAW 48 CM 1 .* QI 1" ||
            fail "$1: CAP/ECAP line missing"
        has "$dir/out" "IOVA 0x7f0000001000 landed at GPA 0xa001000, 2 MiB page" ||
            fail "$1: no DMA through the far IOVA"
    fi
    sectors_hold "$1"
}

if [ "$VIOMMU" = virtio ]; then
    run_one fd "" 256M ""
    has "$dir/out" "landed at GPA 0xa001000" || fail "fd: no DMA through the far IOVA"
    run_one message ",dma=message" 256M ""
    echo "$name: guest MAP/UNMAP reach vfu-blk (dma=fd and dma=message)," \
         "unmapped IOVA refused, bypass works"
    exit 0
fi
run_one fd "" 1280M " vtd-1g=1"
has "$dir/out" "IOVA 0x7f004a004000 (1 GiB page) landed at GPA 0xa004000" ||
    fail "fd: no DMA through the 1 GiB page"
# The same 1 GiB page in a 256 MiB guest runs past the end of RAM: the
# server gets the RAM part, the rings stay mapped.
run_one fd-small "" 256M " vtd-1g=1"
has "$dir/out" "IOVA 0x7f004a004000 (1 GiB page) landed at GPA 0xa004000" ||
    fail "fd-small: no DMA through a 1 GiB page larger than RAM"
run_one message ",dma=message" 256M ""
echo "$name: the guest's VT-d tables reach vfu-blk (dma=fd and" \
     "dma=message), far IOVA and 2 MiB page land at their GPAs, cleared" \
     "entries refused after a page-selective invalidation, identity with" \
     "translation off"
exit 0
