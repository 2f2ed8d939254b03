#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 150
# Hotplug with --viommu (docs/api.md "Hotplug", docs/viommu.md): a
# vfu-blk whose smallest DMA page is 64K, hot-added under the default 4K
# granule, is refused by the vIOMMU's host-IOMMU check (the same one-line
# reason as at start, naming page-size=64K) and the VM is unchanged; the
# cold disk, an endpoint of the vIOMMU, cannot be removed (refused, it
# stays); a fitting vfu-blk is hot-added (checked, kept on the identity
# map), used by the vfio payload's test=hotplug, and removed.
: "${BUILD:=build}"
name=payload_hotplug_viommu
. "$(dirname "$0")/lib.sh"
need_kvm
need_bins vfu-blk minivmm-ctl
dir=$(mktemp -d) || exit 1
srv= big= vm=
cleanup() {
    for p in $vm $srv $big; do kill "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
ctl() { "$BUILD/minivmm-ctl" "$dir/api" "$@"; }
wait_out() { wait_lines "$dir/out" "$1" 1 "$dir/err"; }

truncate -s 1M "$dir/a.img" "$dir/b.img" "$dir/cold.img"
: >"$dir/out"
"$BUILD/vfu-blk" --socket-path="$dir/a.sock" --disk "$dir/a.img" \
    >"$dir/srv.log" 2>&1 &
srv=$!
"$BUILD/vfu-blk" --socket-path="$dir/b.sock" --disk "$dir/b.img" \
    --pgsizes 0x10000 >"$dir/big.log" 2>&1 &
big=$!
for i in $(seq 50); do
    [ -S "$dir/a.sock" ] && [ -S "$dir/b.sock" ] && break; sleep 0.1
done
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
    --viommu virtio --disk path="$dir/cold.img",id=cold \
    --api-socket "$dir/api" \
    --cmdline "test=hotplug hp-rounds=1 hp-secs=60" \
    </dev/null >"$dir/out" 2>"$dir/err" &
vm=$!
wait_out "hotplug: waiting for a device (round 0)"

# The vIOMMU's check refuses the 64K-page server; nothing changes.
if ctl device-add vfio-user socket="$dir/b.sock",id=big \
        >"$dir/big.out" 2>&1; then
    fail "device-add of a 64K-page server under a 4K vIOMMU succeeded"
fi
cat "$dir/big.out"
grep -q "smallest DMA page size 64K.*use page-size=64K" "$dir/big.out" ||
    fail "the refusal is not the vIOMMU's host-IOMMU check"
ctl config >"$dir/cfg0" || fail "config"
grep -q "id=big" "$dir/cfg0" && fail "the refused device is in config"
[ "$(ctl status | sed -n 's/^state: //p')" = running ] ||
    fail "VM not running after the refusal"

# An endpoint of the vIOMMU cannot be removed.
if ctl device-remove cold >"$dir/cold.out" 2>&1; then
    fail "device-remove of a vIOMMU endpoint succeeded"
fi
cat "$dir/cold.out"
grep -q "vIOMMU" "$dir/cold.out" || fail "the refusal does not say why"
ctl config | grep -q "id=cold" || fail "the cold disk is gone"

# A fitting server: added, used, removed.
out=$(ctl device-add vfio-user "socket=$dir/a.sock,id=hp0") ||
    fail "device-add hp0: $out"
echo "$out" | grep -q "^slot: [0-9]" || fail "device-add said '$out'"
wait_out "hotplug: io ok on slot"
ctl device-remove hp0 >/dev/null || fail "device-remove hp0"
wait "$vm"; rc=$?; vm=
tr -d '\r' <"$dir/out"
[ "$rc" -eq 0 ] || { cat "$dir/err"; fail "minivmm exited $rc, want 0"; }
tr -d '\r' <"$dir/out" | grep -qx "PASS hotplug" || fail "no PASS hotplug"
got=$(dd if="$dir/a.img" bs=512 count=1 2>/dev/null | head -c 15)
[ "$got" = "HOTPLUG round 0" ] || fail "a.img sector 0 holds '$got'"
echo "$name: PASS"
