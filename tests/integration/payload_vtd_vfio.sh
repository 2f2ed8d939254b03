#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 150
# The guest programs the VT-d unit (--viommu intel) itself (virtio
# payload, test=vtd; tests/guest/virtio/test_vtd.c) with a vfu-blk disk
# as its endpoint: it finds the unit through the DMAR table, checks
# VER/CAP/ECAP (SAGAW and MGAW for aw-bits 48, caching mode, queued
# invalidation), writes sector 0 with translation off (identity), builds
# the root/context/second-level tables (DMA area 1:1, two 4 KiB pages at
# IOVA 0x7f0000000000 onto buffers at 160 MiB, a 2 MiB page), invalidates
# through the queue and turns translation on: sector 1 is written from and
# read back into the far IOVA and the data lands at the buffers' GPAs
# (the unit's invalidation walk became DMA_MAPs at the guest's IOVAs;
# with dma=fd also a 1 GiB page at IOVA 0x7f0040000000 onto GPA 0, in a
# 1280M guest);
# after the far pages' entries are cleared and invalidated page-
# selectively a read into them fails (DMA_UNMAP reached the server);
# translation off, sector 2 is written through the identity map again.
# Run with dma=fd and dma=message (vfu-blk then refuses the unmapped IOVA
# itself, from its own DMA table, so no DMA_WRITE reaches minivmm to be
# recorded as a fault: fault records are checked with an in-VMM disk,
# payload_vtd_disk.sh). Checks the sectors in the host file.
# The test is payload_viommu_vfio.sh with VIOMMU=intel.
VIOMMU=intel exec sh "$(dirname "$0")/payload_viommu_vfio.sh"
