/* SPDX-License-Identifier: BSD-3-Clause */
/* BAR address allocation, done by the VMM as firmware does at boot
 * (docs/platform.md "PCI"; cloud-hypervisor and Firecracker do the same):
 * every BAR of every function gets an address by size and natural
 * alignment from one of three windows that the host bridge's ACPI _CRS
 * describes.
 *
 * - I/O BARs: from the I/O window, top down.
 * - 32-bit memory BARs and the Expansion ROM: from the 32-bit window, top
 *   down (like SeaBIOS, which packs its BARs at the top of the window: the
 *   low end stays free for guests that place BARs themselves, e.g. the
 *   test payloads, which bump-allocate from the window's base).
 * - 64-bit memory BARs (prefetchable or not): from the 64-bit window above
 *   RAM, bottom up (fewest physical address bits); if that window is
 *   absent or full, from the 32-bit window.
 *
 * A bump allocator per window: gaps left by alignment are not reused, so
 * callers place a function's BARs largest first.
 * Memory BARs smaller than 4 KiB get a 4 KiB slot of their own, so no two
 * BARs share a page (memslots and trapping work per page). A pure module:
 * no I/O, no locking (the PCI bus lock covers it), unit-tested in
 * tests/unit/test_pci_alloc.c. Addresses and sizes are in bytes. */
#ifndef MINIVMM_PCI_ALLOC_H
#define MINIVMM_PCI_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_ALLOC_MIN_MEM 4096ULL /* smallest slot of a memory BAR */

struct pci_window {
    uint64_t base;
    uint64_t size; /* 0: no such window */
};

struct pci_alloc_config {
    struct pci_window io;    /* within [0, 64 KiB) */
    struct pci_window mem32; /* within [0, 4 GiB) */
    struct pci_window mem64; /* anywhere; may be absent */
};

struct pci_alloc {
    struct pci_alloc_config cfg;
    uint64_t io_top;     /* the next I/O BAR ends at or below this */
    uint64_t mem32_top;  /* same for the 32-bit window */
    uint64_t mem64_next; /* the next 64-bit BAR starts at or above this */
};

/* Set up @a over the windows of @cfg. 0, or -EINVAL when a window wraps,
 * the I/O window passes 64 KiB or the 32-bit one 4 GiB. */
int pci_alloc_init(struct pci_alloc *a, const struct pci_alloc_config *cfg);

/* Place a BAR of @type (PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64,
 * PCI_BAR_ROM of devices/pci_cfg.h; PCI_BAR_PREFETCH is ignored) and @size
 * bytes (a power of two). *@addr gets an address aligned to @size (and to
 * PCI_ALLOC_MIN_MEM for memory). 0, -EINVAL (bad type or size), -ENOSPC
 * (no room left: nothing was taken). */
int pci_alloc_bar(struct pci_alloc *a, unsigned int type, uint64_t size,
                  uint64_t *addr);

/* Whether [@addr, @addr + @size) lies inside window @w. */
bool pci_window_contains(const struct pci_window *w, uint64_t addr,
                         uint64_t size);

#endif
