/* SPDX-License-Identifier: BSD-3-Clause */
/* Intel VT-d DMA remapping unit (--viommu intel; docs/viommu.md): one
 * remapping hardware unit with the register file of the Intel VT-d
 * specification (rev. 4.x, chapter 11), legacy-mode translation (root table
 * -> context entries -> second-level page tables, 3 or 4 levels, 4 KiB,
 * 2 MiB and 1 GiB pages; chapter 3.4-3.6, 9.1-9.3, 9.8), register-based
 * and queued invalidation (6.5), fault recording and the fault event
 * interrupt (7.1-7.3). Interrupt remapping is not emulated (ECAP.IR = 0).
 *
 * Endpoints are PCI functions behind the unit, registered with their host
 * IOMMU device (devices/host_iommu.h) and optional ops. The unit keeps,
 * per endpoint, the mappings it last told it (its "shadow"). Caching mode
 * (CAP.CM) is always on, so the guest invalidates after creating mappings
 * too; on every context-cache or IOTLB invalidation (register or queued)
 * the unit walks the guest's tables for the invalidated range of each
 * affected endpoint and turns the difference against the shadow into
 * unmap then map calls on the endpoint's ops (runs of pages contiguous in
 * IOVA and GPA with the same permissions are coalesced into one call; an
 * existing run is only ever unmapped whole). An endpoint whose translation
 * is off (GSTS.TES = 0) or whose context entry is pass-through (TT = 2)
 * sees the identity map of guest RAM (vtd_add_ram()). In-VMM devices
 * (no ops) translate through their shadow (vtd_translate()), which is what
 * an IOTLB holds under caching mode.
 *
 * Guest memory (root, context and page tables, the invalidation queue,
 * wait-descriptor status writes) is reached through vtd_mem_ops; the
 * fault event and invalidation completion interrupts through msi().
 *
 * Threads: one internal mutex; MMIO from vCPU threads, translate and
 * fault from I/O threads. Endpoint ops and vtd_mem_ops (read, write,
 * msi) run under it (they must not call back into the unit). Every count
 * the guest controls is bounded (queue length, table walks); a malformed
 * entry becomes a fault record or an IQE, never a crash. Functions return 0 or -errno unless stated.
 */
#ifndef MINIVMM_DEVICES_VTD_H
#define MINIVMM_DEVICES_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/host_iommu.h"
#include "devices/vtd_types.h" /* VTD_* constants, mem/ep ops */

struct vtd_params {
    unsigned int aw_bits;           /* 39 (3-level) or 48 (4-level) */
    const struct vtd_mem_ops *mem;
    void *mem_opaque;
};

struct vtd;

/* Create the unit in its reset state (translation off, no root table).
 * -EINVAL for aw_bits other than 39/48 or missing ops; -ENOMEM. */
int vtd_create(const struct vtd_params *p, struct vtd **out);
void vtd_destroy(struct vtd *u);

/* Before endpoints: guest RAM region [gpa, gpa + size) for the identity
 * map (translation off, pass-through). -ENOSPC beyond VTD_MAX_RAM;
 * -EINVAL unless 4 KiB aligned, ascending and disjoint; -EBUSY once an
 * endpoint exists. */
int vtd_add_ram(struct vtd *u, uint64_t gpa, uint64_t size);

/* Register PCI function @bdf with its host IOMMU device (checked by the
 * caller: vtd_check()); @ops may be NULL (in-VMM device: translate only).
 * The endpoint starts with the identity map, which the caller has already
 * mapped in the backend (so no map calls are made here). Index >= 0,
 * -EEXIST, -ENOSPC. */
int vtd_add_ep(struct vtd *u, uint16_t bdf, const struct host_iommu_dev *host,
               const struct vtd_ep_ops *ops, void *opaque);

/* The address-width and page-size check of an endpoint against the
 * unit's aw_bits (the seed design's "aw-bits %d > host aw-bits %d"):
 * 0, or -EINVAL with one line in @err naming the device, both widths and
 * the option that would fit; also refused: a device that cannot map
 * 4 KiB pages, or whose reserved ranges overlap guest RAM. */
int vtd_check(unsigned int aw_bits, const struct host_iommu_dev *host,
              char *err, size_t errlen);

/* The part of the check that needs the unit's guest RAM (vtd_add_ram()
 * first): reserved ranges of @host inside guest RAM (the identity map
 * needs them) and a mapping limit below the identity map's regions. 0 or
 * -EINVAL with one line in @err, as vtd_check(). (vtd_check() has no RAM
 * to check against: callers run both.) */
int vtd_check_ram(struct vtd *u, const struct host_iommu_dev *host,
                  char *err, size_t errlen);

/* MMIO at offset @off (< VTD_MMIO_SIZE) of the register file, @len 4 or
 * 8 (other sizes and unaligned accesses: reads all-ones, writes
 * ignored). Called from the bus (vmm/bus.h). */
void vtd_mmio_read(struct vtd *u, uint64_t off, void *data, uint32_t len);
void vtd_mmio_write(struct vtd *u, uint64_t off, const void *data,
                    uint32_t len);

/* DMA of endpoint @bdf: [@iova, @iova + @len) with @perm. 0 and *@gpa
 * when the whole range lies in one shadow mapping (or the identity map;
 * or mappings contiguous in IOVA and guest-physical address),
 * -EFAULT (not mapped) or -EPERM (permission), -ENOENT (not an endpoint).
 * With @report a failure is also recorded as a fault (fault recording
 * register, FSTS, fault event interrupt unless masked). */
int vtd_translate(struct vtd *u, uint16_t bdf, uint64_t iova, uint64_t len,
                  uint32_t perm, uint64_t *gpa, bool report);

/* Record a fault of @bdf at @iova (@perm: the access), e.g. a vfio-user
 * server's DMA_READ/WRITE outside its mappings; the reason comes from a
 * walk of the guest's tables. Never blocks: dropped (counted) when the
 * lock is held by the caller's own endpoint op. */
void vtd_report_fault(struct vtd *u, uint16_t bdf, uint64_t iova,
                      uint32_t perm);

/* System reset: registers to their reset values; every endpoint back to
 * the identity map (unmap/map calls on its ops). */
void vtd_reset(struct vtd *u);

/* A copy of the counters (struct vtd_stats: devices/vtd_types.h). */
void vtd_get_stats(struct vtd *u, struct vtd_stats *st);

/* Snapshot and migration: the register file (with the root table address,
 * the invalidation queue registers and the fault records) and each
 * endpoint's shadow, into/from node @node of a state tree (vmm/state.h).
 * Load checks the endpoints match (same BDFs), then replays each
 * endpoint's mappings through its ops before devices run. Opaque: struct
 * vtd. */
struct state_ops;
extern const struct state_ops vtd_state_ops;

#endif
