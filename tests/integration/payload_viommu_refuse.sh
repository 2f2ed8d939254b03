#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# The vIOMMU's attach check (docs/viommu.md, "Host IOMMU devices"): a
# vfu-blk presenting a 32-bit IOVA width (--iova-bits 32) behind
# --viommu virtio,input-bits=48 is refused before the guest starts (exit
# 2, one line naming the device, both widths and the option that fits);
# with input-bits=32 it is accepted and the virtio payload's virtio-blk
# driver works on it (bypass: the 1:1 map). A server whose smallest DMA
# page is 64K is refused under the default 4K granule and accepted with
# page-size=64K.
: "${BUILD:=build}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_viommu.sh"
viommu_pick payload _refuse
need_kvm
need_bins vfu-blk
make_dir

# 1. 32-bit server, 48-bit vIOMMU: refused, exit 2, one line.
blk_srv --iova-bits 32
blk_vm virtio,input-bits=48 payload.elf "test=exit:0"
refused_blk0 "input-bits=48 over a 32-bit server" $? \
    "vfio-user device 'blk0'" "IOVA width 32 bits" "input range of 48 bits" \
    "use input-bits=32"

# 2. input-bits=32: accepted; the guest's virtio-blk works (bypass).
blk_vm virtio,input-bits=32 virtio.elf "test=vblk"
rc=$?
cat "$dir/err"
passes "$rc" "$dir/serial" vblk input-bits=32
got=$(head -c 22 "$dir/d.img")
[ "$got" = "MINIVMM-VBLK sector 0" ] || fail "the host file holds '$got'"

# 3. A 64K-page server: refused under page-size 4K, accepted with 64K.
blk_srv --pgsizes 0x10000
blk_vm virtio payload.elf "test=exit:0"
rc=$?
cat "$dir/err"
[ "$rc" -eq 2 ] || fail "4K granule over a 64K server exited $rc, want 2"
grep -q "smallest DMA page size 64K.*use page-size=64K" "$dir/err" ||
    fail "refusal does not name the 64K page size and the fitting option"
blk_vm virtio,page-size=64K payload.elf "test=exit:0"
rc=$?
cat "$dir/err"
[ "$rc" -eq 0 ] || fail "page-size=64K exited $rc, want 0"
echo "$name: a 32-bit server is refused under input-bits=48" \
     "and works under input-bits=32; a 64K-page server needs page-size=64K"
exit 0
