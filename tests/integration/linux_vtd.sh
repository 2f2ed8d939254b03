#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 700
# Linux behind the VT-d unit (--viommu intel; the kit kernel has
# INTEL_IOMMU and DMAR_TABLE, off unless intel_iommu=on):
# 1. --viommu intel,aw-bits=48 with a vfu-blk stating --iova-bits 39 is
#    refused before the guest starts (exit 2, one line naming the device
#    and both widths);
# 2. --viommu intel,aw-bits=39 with the same server is accepted: a guest
#    with intel_iommu=on finds the unit through the DMAR table (3-level
#    tables: host address width 39) and puts the vfu-blk disk and an
#    in-VMM virtio disk behind it (both in /sys/kernel/iommu_groups with
#    translating DMA domains; the DMA API maps their buffers at IOVAs,
#    invalidating through the queue each time, since the unit is in
#    caching mode); a dd pattern through each disk
#    (tools/guest/tests/vtd.sh) lands in its host file.
# One Linux boot: guest kernel code is emulated slowly on kvm_pvm.
# KIT (default build/kit) must be a kit built with the current
# tools/guest/kernel.config (skipped when its kernel lacks INTEL_IOMMU).
# The test is linux_viommu.sh with VIOMMU=intel.
VIOMMU=intel exec sh "$(dirname "$0")/linux_viommu.sh"
