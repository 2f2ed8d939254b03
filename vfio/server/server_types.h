/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: the tables a device hands to the server (regions,
 * IRQs, migration, ops), its limits and counters. See server.h.
 * Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_REGION_INFO",
 * "VFIO_USER_DEVICE_GET_IRQ_INFO", "Migration".
 */
#ifndef MINIVMM_VFIO_SERVER_TYPES_H
#define MINIVMM_VFIO_SERVER_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/proto/caps.h"
#include "vfio/proto/proto.h"

#define VFIO_SRV_MAX_REGIONS    16u   /* region indexes 0..15 */
#define VFIO_SRV_MAX_SPARSE     16u   /* sparse mmap areas per region */
#define VFIO_SRV_MAX_IOEVENTFDS 64u   /* ioeventfds per region */
#define VFIO_SRV_MAX_IRQ_COUNT  2048u /* vectors per IRQ index */
#define VFIO_SRV_MIG_DATA_MAX   (64u << 20) /* bytes of migration data */
#define VFIO_SRV_LOG_PGSIZE     4096u /* internal dirty-log granularity */
/* Migration v1 (server_mig_v1.c): the region the core adds, its layout. */
#define VFIO_SRV_MIG_V1_REGION    9u    /* libvfio-user's index */
#define VFIO_SRV_MIG_V1_DATA_OFF  4096u /* data section, after the regs */
#define VFIO_SRV_MIG_V1_DATA_SIZE (64u << 10)
#define VFIO_SRV_DMA_MAX_SIZE   (1ull << 40) /* bytes per DMA map (its
                                                dirty bitmap: 32 MiB) */

/* One mmap-able window of a region, bytes relative to the region start. */
struct vfio_srv_sparse {
    uint64_t offset;
    uint64_t size;
};

/* An ioeventfd the server creates and offers in the GET_REGION_IO_FDS
 * reply (spec "Sub-Region IO FD info format (ioeventfd)"). When it fires,
 * ops->ioeventfd(opaque, region, cookie) runs. */
struct vfio_srv_ioeventfd {
    uint64_t offset;    /* within the region, bytes */
    uint64_t size;      /* access size in bytes, 0: any */
    uint32_t flags;     /* KVM_IOEVENTFD_FLAG_DATAMATCH or 0 */
    uint64_t datamatch;
    uint32_t cookie;    /* for the device, e.g. a queue index */
};

struct vfio_srv_region {
    uint64_t size;          /* bytes; 0: the region does not exist */
    uint32_t flags;         /* VFIO_REGION_INFO_FLAG_READ/WRITE/MMAP */
    int mmap_fd;            /* with FLAG_MMAP: sent in REGION_INFO; stays
                               the device's */
    uint64_t mmap_offset;   /* offset of the region in mmap_fd */
    const struct vfio_srv_sparse *sparse; /* NULL: whole region mmaps */
    uint32_t nr_sparse;
    const struct vfio_srv_ioeventfd *ioeventfds;
    uint32_t nr_ioeventfds;
    uint32_t type, subtype; /* VFIO_REGION_INFO_CAP_TYPE if type != 0 */
};

struct vfio_srv_dev_ops {
    /* Client access of @len bytes at byte @off of region @region (already
     * checked against the region's size and R/W flags). Required. */
    int (*region_access)(void *opaque, uint32_t region, uint64_t off,
                         void *buf, uint32_t len, bool write);
    /* ioeventfd @cookie of region @region fired. Optional. */
    void (*ioeventfd)(void *opaque, uint32_t region, uint32_t cookie);
    /* VFIO_USER_DEVICE_RESET. Optional (reset then unsupported). */
    int (*reset)(void *opaque);
    /* [@iova, @iova + @size) is about to go away (DMA_UNMAP or client
     * disconnect): stop using it, complete in-flight DMA. Optional. */
    void (*dma_unmap)(void *opaque, uint64_t iova, uint64_t size);
    /* Migration (all required when mig_flags != 0). mig_arc: the device
     * takes one direct arc @from -> @to (enum vfio_device_mig_state), e.g.
     * stops or starts processing. mig_save: serialise the device into a
     * malloc'd buffer (entering STOP_COPY). mig_load: restore from the
     * received stream (RESUMING -> STOP); validate everything. */
    int (*mig_arc)(void *opaque, uint32_t from, uint32_t to);
    int (*mig_save)(void *opaque, void **buf, size_t *len);
    int (*mig_load)(void *opaque, const void *buf, size_t len);
    /* Optional (with VFIO_MIGRATION_PRE_COPY): entering PRE_COPY, the
     * state that can move while the device runs, into a malloc'd buffer;
     * MIG_DATA_READ drains it in PRE_COPY. Whatever the client has not
     * read by STOP_COPY comes first in the STOP_COPY stream, so mig_load
     * gets this part (when the client went through PRE_COPY) followed by
     * mig_save's: the device must tell them apart. */
    int (*mig_precopy)(void *opaque, void **buf, size_t *len);
};

struct vfio_srv_dev {
    const struct vfio_srv_region *regions; /* [num_regions], copied */
    uint32_t num_regions;                  /* <= VFIO_SRV_MAX_REGIONS */
    uint32_t irq_count[VFIO_PCI_NUM_IRQS]; /* vectors per IRQ index */
    uint32_t num_irqs;                     /* <= VFIO_PCI_NUM_IRQS */
    uint64_t mig_flags;    /* VFIO_MIGRATION_*; 0: not migratable */
    /* Behave like current libvfio-user (2023+, migration v2) where it is
     * stricter than the spec: in STOP, STOP_COPY and RESUMING only
     * REGION_READ/WRITE(_MULTI), DEVICE_FEATURE, MIG_DATA_READ/WRITE and
     * DMA_MAP/UNMAP are served (others: EINVAL, logged); MIG_DATA_READ
     * replies are padded to the requested size; MIG_DATA_WRITE needs
     * argsz >= 8 + size. For testing clients against those rules. */
    bool strict;
    /* Serve migration as spec 0.9.1 does ("v1": a migration region at
     * VFIO_SRV_MIG_V1_REGION, added by the core, num_regions must be
     * <= that index; DIRTY_PAGES; the VERSION "migration" capability)
     * instead of DEVICE_FEATURE. Needs mig_flags and the mig_* ops, which
     * run as for v2. */
    bool mig_v1;
    const struct vfio_srv_dev_ops *ops;
    void *opaque;
};

/* Counters, for the owner's statistics. */
struct vfio_srv_stats {
    uint64_t connections;   /* clients accepted */
    uint64_t commands;      /* commands handled */
    uint64_t errors;        /* error replies sent */
    uint64_t dma_msgs;      /* DMA_READ/DMA_WRITE messages sent */
    uint64_t dma_rounds;    /* round trips: waits for DMA replies (a
                             * synchronous DMA_READ/WRITE, or a flush of
                             * posted ones) */
    uint64_t irqs;          /* eventfd signals of trigger fds */
    uint64_t ioeventfds;    /* ioeventfd wake-ups delivered */
    uint64_t dirty_bitmaps; /* DIRTY_PAGES GET_BITMAP answered (v1) */
    uint64_t dirty_pages;   /* bits set in those bitmaps */
    uint64_t msgs_sent;     /* vfio-user messages sent, all connections */
    uint64_t msgs_received; /* and received (whole, valid or refused) */
    uint64_t waits;         /* blocking waits for the client returned
                             * (DMA_READ/WRITE replies) */
};

struct vfio_srv;

#endif
