/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user PCI device: the server's migration data as the client keeps
 * it, shared by migration v2 (pci_dev_state.c) and v1 (pci_dev_mig_v1.c):
 * what was probed, the STOP_COPY stream of this pause, and what live
 * migration read in pre-copy, which leads the saved stream. Spec:
 * vfio-user.rst "VFIO_USER_MIG_DATA_READ"; 0.9.1 "VFIO Device Migration
 * Info". Functions return 0 or -errno. */
#ifndef MINIVMM_VFIO_PCI_DEV_MIG_H
#define MINIVMM_VFIO_PCI_DEV_MIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/client/client.h"
#include "vfio/client/client_mig.h"
#include "vfio/client/client_mig_v1.h"
#include "vfio/pci/pci_dev_ctx.h"

struct vpd_mig {
    struct vpd_ctx *ctx;
    bool probed;
    uint64_t flags;                /* VFIO_MIGRATION_*, 0: none */
    bool saved;                    /* data is this pause's */
    void *data;                    /* the server's STOP_COPY stream */
    size_t len;
    /* Pre-copy (live migration, VFIO_MIGRATION_PRE_COPY or v1's
     * PRE_COPY): set and read on the migration thread; quiesce/save
     * (event loop) run while it waits */
    atomic_bool pre_active;        /* we moved the server to PRE_COPY */
    bool pre_in_stream;            /* this quiesce left PRE_COPY: pre_data
                                      leads the saved stream */
    void *pre_data;
    size_t pre_len;
    /* Region-based migration v1: chosen at probe */
    bool v1;
    struct vfio_client_mig_v1 v1r;
};

/* Drop this pause's stream. */
void vpd_mig_free_saved(struct vpd_mig *m);
/* Drop the pre-copy data (and that it leads the stream). */
void vpd_mig_free_pre(struct vpd_mig *m);
/* Append @len bytes read in pre-copy (@buf is freed). -ENOMEM. */
int vpd_mig_pre_append(struct vpd_mig *m, void *buf, size_t len);
/* The stream the destination gets: the pre-copy data, then STOP_COPY's
 * (the server goes on where pre-copy left it; records concatenate).
 * Logs both sizes (info; @tag ends the line, e.g. " (v1)"). -EFBIG
 * beyond VFIO_CLIENT_MIG_DATA_MAX, -ENOMEM. */
int vpd_mig_join(struct vpd_mig *m, const char *tag);

/* How a server reports the pages it wrote in [@iova, +@size), one bit
 * per @pgsize page into @bitmap (v2 DMA_LOGGING_REPORT, v1 DIRTY_PAGES). */
typedef int (*vpd_report_fn)(struct vfio_client *c, uint64_t iova,
                             uint64_t size, uint64_t pgsize,
                             uint64_t *bitmap);
/* The pages the server wrote in every DMA window, asked with @report at
 * 4 KiB and ORed into @bits (one bit per 4 KiB page of the guest RAM
 * memfd, @npages of them, through each window's fd_offset); *@count gets
 * how many. With @forgive_unbacked a window without an fd (written
 * through DMA_WRITE messages, which libvfio-user's v1 cannot report) may
 * fail with an errno, not a broken reply. -EINVAL for a window not page
 * aligned or beyond @bits, -E2BIG, -ENOMEM, the report's errors. */
int vpd_mig_sync_windows(struct vpd_ctx *ctx, vpd_report_fn report,
                         bool forgive_unbacked, uint64_t *bits,
                         uint64_t npages, uint64_t *count);

#endif
