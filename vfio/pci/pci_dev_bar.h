/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: BARs (see pci_dev.h). Region info → BAR
 * declarations; mmap-able areas → memslots and GET_REGION_IO_FDS →
 * ioeventfds at the BAR's guest address, following the BAR and gone while
 * it is not decoded or the device is dead; trapped accesses →
 * REGION_READ/WRITE, but the MSI-X table and PBA, which go to the MSI-X
 * model given by vpd_bars_carve(). Functions return 0 or -errno. */
#ifndef MINIVMM_VFIO_PCI_DEV_BAR_H
#define MINIVMM_VFIO_PCI_DEV_BAR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "vfio/client/client.h"
#include "vfio/pci/pci_dev_ctx.h"

#define VPD_NR_BARS   PCI_NR_BAR_SLOTS   /* 0-5 and the ROM (region 6) */
#define VPD_MAX_AREAS (VFIO_CLIENT_MAX_SPARSE + 8)

struct vpd_bars;

struct vpd_bar {
    struct vpd_bars *owner;
    unsigned int idx;              /* BAR slot == region index */
    struct vfio_client_region ri;  /* ri.size 0: no BAR */
    uint64_t size;                 /* BAR size (power of two) */
    bool io;                       /* I/O space BAR */
    void *map;                     /* mmap of the region, NULL if none */
    unsigned int nareas;           /* memslot areas (page aligned) */
    struct vfio_client_area areas[VPD_MAX_AREAS];
    uint32_t slots[VPD_MAX_AREAS];
    bool slotted;                  /* memslots in place */
    struct vfio_client_iofds io_fds;
    bool io_on;                    /* ioeventfds registered */
    bool mapped;                   /* guest decodes it (bar_map seen) */
    uint64_t addr;                 /* guest address while mapped */
};

struct vpd_bars {
    struct vpd_ctx *ctx;
    struct vpd_bar bar[VPD_NR_BARS];
    /* The MSI-X table and PBA, emulated here (vpd_bars_carve()). */
    struct msix *msix;             /* NULL: none */
    unsigned int msix_bar;
    uint64_t table_off, pba_off;
    atomic_uint io_errors;         /* BAR accesses the server failed */
    atomic_llong io_err_sec;       /* when the last one was logged */
};

/* Region info, mmaps and io-fds of every BAR. @err gets a sentence. */
int vpd_bars_setup(struct vpd_bars *bs, struct vpd_ctx *ctx, char *err,
                   size_t errlen);
/* Declare the BARs on ctx->pci from its config image. */
int vpd_bars_declare(struct vpd_bars *bs);
/* The MSI-X table (@table_off) and PBA (@pba_off) of BAR @bar are
 * @msix's (NULL: none): trapped there, never memslots. */
void vpd_bars_carve(struct vpd_bars *bs, struct msix *msix, unsigned int bar,
                    uint64_t table_off, uint64_t pba_off);
void vpd_bars_free(struct vpd_bars *bs);
/* Region size of BAR @idx (0: none). */
uint64_t vpd_bar_region_size(const struct vpd_bars *bs, unsigned int idx);

/* The guest decodes BAR @bar at @addr / no longer (PCI bus lock held). */
void vpd_bars_map(struct vpd_bars *bs, unsigned int bar, uint64_t addr);
void vpd_bars_unmap(struct vpd_bars *bs, unsigned int bar);
/* Tear down / rebuild every mapping (ctx->map_lock held); reattach
 * refetches region info and fails if a size changed. */
void vpd_bars_detach(struct vpd_bars *bs);
int vpd_bars_reattach(struct vpd_bars *bs);

#endif
