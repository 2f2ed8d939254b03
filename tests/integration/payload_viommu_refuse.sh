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
fail() { echo "payload_viommu_refuse: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_viommu_refuse: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-blk" ] || { echo "payload_viommu_refuse: no vfu-blk" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

start_srv() { # extra vfu-blk options
    [ -n "$srv" ] && { kill "$srv"; wait "$srv" 2>/dev/null; }
    rm -f "$dir/s.sock"
    truncate -s 1M "$dir/d.img"
    # shellcheck disable=SC2086
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" $1 \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk did not create its socket"
}

vm() { # viommu-option kernel cmdline
    "$BUILD/minivmm" --kernel "$BUILD/guest/$2" --memory 256M \
        --serial file:"$dir/serial" --viommu "$1" \
        --vfio-user socket="$dir/s.sock",id=blk0 --cmdline "$3" \
        </dev/null >"$dir/out" 2>"$dir/err"
}

# 1. 32-bit server, 48-bit vIOMMU: refused, exit 2, one line.
start_srv "--iova-bits 32"
vm virtio,input-bits=48 payload.elf "test=exit:0"
rc=$?
cat "$dir/err"
[ "$rc" -eq 2 ] || fail "input-bits=48 over a 32-bit server exited $rc, want 2"
line=$(grep "vfio-user device 'blk0'" "$dir/err")
[ "$(echo "$line" | wc -l)" -eq 1 ] || fail "want one line naming blk0"
for w in "IOVA width 32 bits" "input range of 48 bits" "use input-bits=32"; do
    echo "$line" | grep -q "$w" || fail "refusal does not say '$w'"
done
[ ! -s "$dir/serial" ] || fail "the guest ran before the refusal"

# 2. input-bits=32: accepted; the guest's virtio-blk works (bypass).
vm virtio,input-bits=32 virtio.elf "test=vblk"
rc=$?
tr -d '\r' <"$dir/serial"
cat "$dir/err"
[ "$rc" -eq 0 ] || fail "input-bits=32 exited $rc, want 0"
tr -d '\r' <"$dir/serial" | grep -qx "PASS vblk" || fail "no 'PASS vblk'"
got=$(head -c 22 "$dir/d.img")
[ "$got" = "MINIVMM-VBLK sector 0" ] || fail "the host file holds '$got'"

# 3. A 64K-page server: refused under page-size 4K, accepted with 64K.
start_srv "--pgsizes 0x10000"
vm virtio payload.elf "test=exit:0"
rc=$?
cat "$dir/err"
[ "$rc" -eq 2 ] || fail "4K granule over a 64K server exited $rc, want 2"
grep -q "smallest DMA page size 64K.*use page-size=64K" "$dir/err" ||
    fail "refusal does not name the 64K page size and the fitting option"
vm virtio,page-size=64K payload.elf "test=exit:0"
rc=$?
cat "$dir/err"
[ "$rc" -eq 0 ] || fail "page-size=64K exited $rc, want 0"
echo "payload_viommu_refuse: a 32-bit server is refused under input-bits=48" \
     "and works under input-bits=32; a 64K-page server needs page-size=64K"
exit 0
