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
name=payload_vtd_refuse
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
    rm -f "$dir/serial"
    "$BUILD/minivmm" --kernel "$BUILD/guest/$2" --memory 256M \
        --serial file:"$dir/serial" --viommu "$1" \
        --vfio-user socket="$dir/s.sock",id=blk0 --cmdline "$3" \
        </dev/null >"$dir/out" 2>"$dir/err"
}

# 1. 39-bit server, aw-bits=48: refused, exit 2, one line with both widths.
start_srv "--iova-bits 39"
vm intel,aw-bits=48 payload.elf "test=exit:0"
rc=$?
cat "$dir/err"
[ "$rc" -eq 2 ] || fail "aw-bits=48 over a 39-bit server exited $rc, want 2"
line=$(grep "blk0" "$dir/err")
[ "$(echo "$line" | wc -l)" -eq 1 ] || fail "want one line naming blk0"
for w in 48 39 "aw-bits=39"; do
    echo "$line" | grep -q -- "$w" || fail "refusal does not say '$w'"
done
[ ! -s "$dir/serial" ] || fail "the guest ran before the refusal"

# 2. aw-bits=39: accepted; the guest programs 3-level tables and passes.
truncate -s 0 "$dir/d.img"; truncate -s 1M "$dir/d.img"
vm intel,aw-bits=39 virtio.elf "test=vtd vtd-aw=39"
rc=$?
tr -d '\r' <"$dir/serial"
cat "$dir/err"
[ "$rc" -eq 0 ] || fail "aw-bits=39 exited $rc, want 0"
tr -d '\r' <"$dir/serial" | grep -qx "PASS vtd" || fail "no 'PASS vtd'"
tr -d '\r' <"$dir/serial" | grep -q "SAGAW 0x2 MGAW 39 CM 1" ||
    fail "CAP does not show aw 39"
tr -d '\r' <"$dir/serial" | grep -q "IOVA 0x7f00001000 landed at GPA" ||
    fail "no DMA through the far IOVA below 2^39"
for s in 0 1 2; do
    got=$(dd if="$dir/d.img" bs=512 skip=$s count=1 2>/dev/null | head -c 12)
    [ "$got" = "VTD sector $s" ] ||
        fail "sector $s of the host file holds '$got'"
done

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
