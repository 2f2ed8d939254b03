#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# vtd test (tests/integration/linux_vtd.sh): Linux's Intel IOMMU driver
# (intel_iommu=on, found through the ACPI DMAR table) in front of an
# in-VMM virtio disk and a vfu-blk disk. Prints the kernel's DMAR lines,
# the IOMMU groups' devices with their domain type (DMA: translated;
# identity: passed through), then for each disk
#   VTD-BLK <serial> <what was read back>
# after a dd write at byte 8192 and a direct read. The host checks the
# pattern in both files. The test is viommu.sh with VIOMMU=intel (init.sh
# sources it in a subshell: its exit ends the test).
VIOMMU=intel
. /tests/viommu.sh
