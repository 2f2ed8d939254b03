#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# An in-VMM virtio-blk (--disk) behind --viommu intel: minivmm translates
# every ring, descriptor and buffer address through the VT-d unit's
# tables. The virtio payload's test=vtd vtd-fault=1 (tests/guest/virtio/
# test_vtd.c) writes with translation off, programs root/context/second-
# level tables, invalidates through the queue, does I/O through a far
# IOVA, a 2 MiB page and a 1 GiB page (in a 1280M guest; landing at the
# buffers' GPAs), clears the far pages' entries, invalidates them
# page-selectively and reads into them again:
# refused, and recorded as a fault (FSTS.PPF, a fault record with the
# disk's source ID, the page, reason 5 and type write; the fault event
# MSI arrives; the record clears with W1C); translation off restores the
# identity map. Then iommu=off is refused with --viommu intel (the DMAR
# table puts every PCI device behind the unit), and the API's stats show
# the unit's counters (invalidations, the fault), valid against the schema.
: "${BUILD:=build}"
name=payload_vtd_disk
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
"$BUILD/minivmm" --help 2>&1 | grep -qw intel ||
    { echo "$name: minivmm has no --viommu intel" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
vm=
trap '[ -n "$vm" ] && kill "$vm" 2>/dev/null; rm -rf "$dir"' EXIT
truncate -s 1M "$dir/d.img"
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 1280M \
    --viommu intel --disk path="$dir/d.img" \
    --cmdline "test=vtd vtd-fault=1 vtd-1g=1" </dev/null >"$dir/out" 2>&1
rc=$?
tr -d '\r' <"$dir/out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$dir/out" | grep -qx "PASS vtd" || fail "no 'PASS vtd'"
ep=$(tr -d '\r' <"$dir/out" | sed -n 's/^vtd: endpoint \(0x[0-9a-f]*\) .*/\1/p')
[ -n "$ep" ] || fail "no endpoint line"
tr -d '\r' <"$dir/out" |
    grep -qx "vtd: fault reason 5 type write sid $ep address 0x7f0000001000" ||
    fail "the refused DMA was not recorded as a fault of $ep at the page"
tr -d '\r' <"$dir/out" |
    grep -q "IOVA 0x7f004a004000 (1 GiB page) landed at GPA 0xa004000" ||
    fail "no DMA through the 1 GiB page"
tr -d '\r' <"$dir/out" | grep -q "fault event interrupt, record cleared" ||
    fail "no fault event interrupt"
for s in 0 1 2; do
    got=$(dd if="$dir/d.img" bs=512 skip=$s count=1 2>/dev/null | head -c 12)
    [ "$got" = "VTD sector $s" ] || fail "sector $s of the file holds '$got'"
done
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --viommu intel --disk path="$dir/d.img",iommu=off \
    --cmdline "test=vtd" </dev/null >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
[ "$rc" -eq 2 ] || fail "iommu=off with --viommu intel exited $rc, want 2"
grep -q "iommu=off" "$dir/out" || fail "the refusal does not name iommu=off"
# The API's stats: the unit's counters, valid against the schema.
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --viommu intel --disk path="$dir/d.img" --api-socket "$dir/api" \
    --cmdline "test=vtd,vblk-count vtd-fault=1 ticks=100000 blocks=16" \
    --serial "file:$dir/out" </dev/null >"$dir/err" 2>&1 &
vm=$!
i=0
until tr -d '\r' <"$dir/out" 2>/dev/null | grep -q "^counter: tick 1 "; do
    i=$((i + 1))
    [ "$i" -gt 400 ] &&
        { cat "$dir/out" "$dir/err"; fail "the guest does not count"; }
    sleep 0.05
done
"$BUILD/minivmm-ctl" "$dir/api" stats >"$dir/stats.json" || fail "stats failed"
kill "$vm"; wait "$vm" 2>/dev/null; vm=
python3 - "$dir/stats.json" docs/stats.schema.json <<'EOT' || fail "stats"
import json, sys
st = json.load(open(sys.argv[1]))
st = st.get("result", st)
try:
    import jsonschema
    jsonschema.validate(st, json.load(open(sys.argv[2])))
except ImportError:
    pass
io = [d for d in st["devices"] if d["kind"] == "intel-iommu"][0]["iommu"]
print("intel-iommu stats:", io)
assert io["invalidations"] >= 2 and io["faults"] == 1, io
assert io["iq_errors"] == 0 and io["faults_dropped"] == 0, io
EOT
echo "$name: in-VMM virtio-blk translated through the guest's VT-d tables," \
     "the fault recorded and signalled, iommu=off refused, stats count" \
     "the invalidations and the fault"
exit 0
