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
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_viommu.sh"
viommu_pick payload _disk
need_kvm
make_dir
fresh_disk
disk_vm 256M virtio "" "test=viommu viommu-fault=1"
passes $? "$dir/out" viommu
has "$dir/out" "fault reason 2 .* address 0x7f0000001000" ||
    fail "the refused DMA was not reported on the event queue"
sectors_hold
disk_vm 256M virtio ,iommu=off "test=viommu"
rc=$?
has "$dir/out" "FAIL viommu: PROBE: status 6" ||
    fail "iommu=off: the disk is still an endpoint (rc $rc)"
# The API's stats: the virtio-iommu's counters, valid against the schema.
unit_stats virtio "test=viommu,vblk-count viommu-fault=1 ticks=100000 blocks=16" \
    'io["maps"] >= 2 and io["unmaps"] >= 1 and io["faults"] == 1'
echo "$name: in-VMM virtio-blk translated through its domain, fault" \
     "reported, iommu=off keeps it out, stats count the MAPs and the fault"
exit 0
