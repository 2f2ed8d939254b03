#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# An in-VMM virtio-blk (--disk) behind --viommu virtio: minivmm translates
# every descriptor and buffer address through the device's domain. The
# virtio payload's test=viommu (tests/guest/virtio/test_viommu.c) probes,
# writes in bypass, attaches the disk to a domain, does I/O through a far
# IOVA (landing at the buffers' GPAs), unmaps it and reads into it again:
# refused, and reported as a fault record (reason MAPPING, the endpoint,
# the IOVA) on the virtio-iommu's event queue; DETACH restores bypass.
# Then the same disk with iommu=off is not behind the vIOMMU (no VIOT, the
# test's PROBE of it fails: NOENT).
: "${BUILD:=build}"
name=payload_viommu_disk
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
truncate -s 1M "$dir/d.img"
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --viommu virtio --disk path="$dir/d.img" \
    --cmdline "test=viommu viommu-fault=1" </dev/null >"$dir/out" 2>&1
rc=$?
tr -d '\r' <"$dir/out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$dir/out" | grep -qx "PASS viommu" || fail "no 'PASS viommu'"
tr -d '\r' <"$dir/out" | grep -q "fault reason 2 .* address 0x7f0000001000" ||
    fail "the refused DMA was not reported on the event queue"
for s in 0 1 2; do
    got=$(dd if="$dir/d.img" bs=512 skip=$s count=1 2>/dev/null | head -c 15)
    [ "$got" = "VIOMMU sector $s" ] || fail "sector $s of the file holds '$got'"
done
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --viommu virtio --disk path="$dir/d.img",iommu=off \
    --cmdline "test=viommu" </dev/null >"$dir/out" 2>&1
rc=$?
tr -d '\r' <"$dir/out" | grep -q "FAIL viommu: PROBE: status 6" ||
    fail "iommu=off: the disk is still an endpoint (rc $rc)"
# The API's stats: the virtio-iommu's counters, valid against the schema.
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --viommu virtio --disk path="$dir/d.img" --api-socket "$dir/api" \
    --cmdline "test=viommu,vblk-count viommu-fault=1 ticks=100000 blocks=16" \
    --serial "file:$dir/out" </dev/null >"$dir/err" 2>&1 &
vm=$!
i=0
until tr -d '\r' <"$dir/out" 2>/dev/null | grep -q "^counter: tick 1 "; do
    i=$((i + 1))
    [ "$i" -gt 400 ] && { kill "$vm"; fail "the guest does not count"; }
    sleep 0.05
done
"$BUILD/minivmm-ctl" "$dir/api" stats >"$dir/stats.json" ||
    { kill "$vm"; fail "stats failed"; }
kill "$vm"; wait "$vm" 2>/dev/null
python3 - "$dir/stats.json" docs/stats.schema.json <<'EOT' || fail "stats"
import json, sys
st = json.load(open(sys.argv[1]))
st = st.get("result", st)
try:
    import jsonschema
    jsonschema.validate(st, json.load(open(sys.argv[2])))
except ImportError:
    pass
io = [d for d in st["devices"] if d["kind"] == "virtio-iommu"][0]["iommu"]
print("virtio-iommu stats:", io)
assert io["maps"] >= 2 and io["unmaps"] >= 1 and io["faults"] == 1, io
EOT
echo "$name: in-VMM virtio-blk translated through its domain, fault" \
     "reported, iommu=off keeps it out, stats count the MAPs and the fault"
exit 0
