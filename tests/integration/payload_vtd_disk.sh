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
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_viommu.sh"
VIOMMU=intel
viommu_pick payload _disk
need_kvm
need_viommu
make_dir
fresh_disk
disk_vm 1280M intel "" "test=vtd vtd-fault=1 vtd-1g=1"
passes $? "$dir/out" vtd
ep=$(tr -d '\r' <"$dir/out" | sed -n 's/^vtd: endpoint \(0x[0-9a-f]*\) .*/\1/p')
[ -n "$ep" ] || fail "no endpoint line"
has "$dir/out" -x "vtd: fault reason 5 type write sid $ep address 0x7f0000001000" ||
    fail "the refused DMA was not recorded as a fault of $ep at the page"
has "$dir/out" "IOVA 0x7f004a004000 (1 GiB page) landed at GPA 0xa004000" ||
    fail "no DMA through the 1 GiB page"
has "$dir/out" "fault event interrupt, record cleared" ||
    fail "no fault event interrupt"
sectors_hold
disk_vm 256M intel ,iommu=off "test=vtd"
rc=$?
cat "$dir/out"
[ "$rc" -eq 2 ] || fail "iommu=off with --viommu intel exited $rc, want 2"
grep -q "iommu=off" "$dir/out" || fail "the refusal does not name iommu=off"
# The API's stats: the unit's counters, valid against the schema.
unit_stats intel "test=vtd,vblk-count vtd-fault=1 ticks=100000 blocks=16" \
    'io["invalidations"] >= 2 and io["faults"] == 1 and
     io["iq_errors"] == 0 and io["faults_dropped"] == 0'
echo "$name: in-VMM virtio-blk translated through the guest's VT-d tables," \
     "the fault recorded and signalled, iommu=off refused, stats count" \
     "the invalidations and the fault"
exit 0
