/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: serves one device, described by tables, to one
 * client at a time over an AF_UNIX stream socket.
 *
 * Spec: shared/spec/vfio-user.rst, "Protocol Specification" (every
 * client->server command), "Socket Disconnection Behavior" ("Client
 * Disconnection"), "Read and Write Operations" (DMA_READ/DMA_WRITE to the
 * client for memory mapped without an fd) and "VFIO_USER_VERSION" (JSON
 * capabilities, twin socket).
 *
 * Library style, like libvfio-user's vfu_get_poll_fd()/vfu_run_ctx(): the
 * server owns no thread and no loop. vfio_srv_poll_fd() is an epoll fd
 * that becomes readable when the listening socket, the client socket or
 * one of the server's ioeventfds has something; the owner then calls
 * vfio_srv_handle_ready(). Everything for one server must be called from
 * one thread at a time, device callbacks included.
 *
 * The device supplies regions (size, flags, optional mmap fd, sparse-mmap
 * areas, ioeventfd sub-regions to offer, a region type), IRQ counts per
 * VFIO_PCI_*_IRQ_INDEX, migration flags, and a const ops table. Region
 * VFIO_PCI_CONFIG_REGION_INDEX is the PCI configuration space; the device
 * emulates it through region_access like any other region.
 *
 * Trust: every length, index, offset and flag of a client message is
 * checked before use; malformed commands get an error reply (or the
 * connection is dropped when the stream cannot be resynchronised). Never
 * crashes on input.
 *
 * Errors: 0 or a negative errno everywhere.
 */
#ifndef MINIVMM_VFIO_SERVER_H
#define MINIVMM_VFIO_SERVER_H

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
    uint64_t irqs;          /* eventfd signals of trigger fds */
    uint64_t ioeventfds;    /* ioeventfd wake-ups delivered */
    uint64_t dirty_bitmaps; /* DIRTY_PAGES GET_BITMAP answered (v1) */
    uint64_t dirty_pages;   /* bits set in those bitmaps */
};

struct vfio_srv;

/* The capabilities a server offers when vfio_srv_create() gets no @own:
 * the spec's defaults (vfio_user_caps_default()) plus 16 fds per message,
 * twin socket and write_multiple. A server presenting tighter DMA limits
 * (vfu-blk --pgsizes/--max-dma-maps/--iova-bits) starts from these. */
void vfio_srv_default_caps(struct vfio_user_caps *c);

/* Create a server for @dev (tables copied; ops/opaque/fds referenced).
 * @own: capabilities to advertise (NULL: defaults plus twin_socket and
 * write_multiple). @listen_fd: a listening AF_UNIX socket the server
 * accepts clients on (owned from then on), or -1 (use vfio_srv_attach()).
 * Creates the ioeventfds. 0, -EINVAL (bad tables), -ENOMEM, or errno. */
int vfio_srv_create(const struct vfio_srv_dev *dev,
                    const struct vfio_user_caps *own, int listen_fd,
                    struct vfio_srv **out);

/* Close every fd, unmap all DMA, free. NULL is a no-op. */
void vfio_srv_destroy(struct vfio_srv *s);

/* Serve an already connected socket @fd (ownership passes on success).
 * -EBUSY if a client is connected. */
int vfio_srv_attach(struct vfio_srv *s, int fd);

/* The fd to poll for readability (level-triggered). */
int vfio_srv_poll_fd(const struct vfio_srv *s);

/* Handle whatever is ready: accept a client, serve its commands, deliver
 * ioeventfds. Never blocks waiting for new input (it may block for the
 * reply to a DMA message it sends). 0; -ENOTCONN once a client attached
 * with vfio_srv_attach() has gone (nothing left to serve); -errno for a
 * local failure (epoll). A client that misbehaves is disconnected. */
int vfio_srv_handle_ready(struct vfio_srv *s);

/* True while a client is connected and has completed VERSION. */
bool vfio_srv_connected(const struct vfio_srv *s);

/* Signal vector @vec of IRQ index @index to the client (eventfd write).
 * A masked vector is left pending until unmasked. 0, -EINVAL (bad index
 * or vector), -ENOENT (client set no eventfd for it). */
int vfio_srv_irq_trigger(struct vfio_srv *s, uint32_t index, uint32_t vec);

/* True if the client has given an eventfd for @index/@vec. */
bool vfio_srv_irq_has_fd(const struct vfio_srv *s, uint32_t index,
                         uint32_t vec);

/* Host pointer for client DMA range [@iova, @iova + @len) if it lies in
 * one fd-backed DMA map with the needed permission (@write: the device will
 * write; the pages are then marked dirty when logging), else NULL. */
void *vfio_srv_dma_translate(struct vfio_srv *s, uint64_t iova,
                             uint64_t len, bool write);

/* Copy @len bytes from/to client DMA memory: memcpy for fd-backed maps,
 * else VFIO_USER_DMA_READ/WRITE messages of at most the negotiated
 * max_data_xfer_size each (on the twin socket when negotiated). Writes
 * are dirty-logged. 0, -EFAULT (not mapped / no permission), -ENOTCONN,
 * or the peer's error. */
int vfio_srv_dma_read(struct vfio_srv *s, uint64_t iova, void *buf,
                      uint64_t len);
int vfio_srv_dma_write(struct vfio_srv *s, uint64_t iova, const void *buf,
                       uint64_t len);

/* Mark [@iova, @iova + @len) dirty (device wrote through a pointer from
 * vfio_srv_dma_translate() after the fact). No-op unless logging. */
void vfio_srv_dma_mark_dirty(struct vfio_srv *s, uint64_t iova,
                             uint64_t len);

/* Current migration state (enum vfio_device_mig_state); RUNNING for a
 * device without migration. */
uint32_t vfio_srv_mig_state(const struct vfio_srv *s);

void vfio_srv_get_stats(const struct vfio_srv *s,
                        struct vfio_srv_stats *st);

#endif
