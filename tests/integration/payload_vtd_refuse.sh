#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# The VT-d unit's attach check (docs/viommu.md): a vfu-blk presenting a
# 39-bit IOVA width (--iova-bits 39) behind --viommu intel,aw-bits=48 is
# refused before the guest starts (exit 2, one line naming the device,
# both widths and the option that fits); with aw-bits=39 it is accepted
# and the virtio payload's test=vtd passes on it with 3-level tables (CAP
# shows SAGAW 39 only, MGAW 39; far IOVA 0x7f00000000). --cpus 256 with
# --viommu intel is refused (no interrupt remapping: at most 255 vCPUs).
: "${BUILD:=build}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_viommu.sh"
VIOMMU=intel
viommu_pick payload _refuse
need_kvm
need_bins vfu-blk
need_viommu
make_dir

# 1. 39-bit server, aw-bits=48: refused, exit 2, one line with both widths.
blk_srv --iova-bits 39
blk_vm intel,aw-bits=48 payload.elf "test=exit:0"
refused_blk0 "aw-bits=48 over a 39-bit server" $? blk0 48 39 "aw-bits=39"

# 2. aw-bits=39: accepted; the guest programs 3-level tables and passes.
fresh_disk
blk_vm intel,aw-bits=39 virtio.elf "test=vtd vtd-aw=39"
rc=$?
cat "$dir/err"
passes "$rc" "$dir/serial" vtd aw-bits=39
has "$dir/serial" "SAGAW 0x2 MGAW 39 CM 1" || fail "CAP does not show aw 39"
has "$dir/serial" "IOVA 0x7f00001000 landed at GPA" ||
    fail "no DMA through the far IOVA below 2^39"
sectors_hold

# 3. More vCPUs than xAPIC addresses without interrupt remapping.
"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 256M \
    --cpus 256 --viommu intel --cmdline "test=exit:0" \
    </dev/null >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
[ "$rc" -eq 2 ] || fail "--cpus 256 --viommu intel exited $rc, want 2"
grep -q "256" "$dir/out" && grep -q "255" "$dir/out" ||
    fail "the refusal does not name 256 vCPUs and the limit 255"
echo "$name: a 39-bit server is refused under aw-bits=48 and works under" \
     "aw-bits=39 (3-level tables); --cpus 256 refused"
exit 0
