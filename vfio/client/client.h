/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: the device operations of one remote device.
 *
 * Spec: shared/spec/vfio-user.rst, "VFIO_USER_VERSION" through
 * "VFIO_USER_DEVICE_RESET". Built on vfio/conn (framing, fds, the one
 * validation function) and vfio/iommu (the device's DMA address space).
 *
 * Every reply is validated: its msg_id must name a request in flight, its
 * command, size and fd count must fit that request, and every count, size,
 * offset, flag and fd inside is checked against the request and capped
 * (VFIO_CLIENT_MAX_*). A server that breaks the protocol is refused: the
 * client logs one line naming the device and the field, marks the device
 * failed and calls opts.on_fail; from then on every operation returns
 * -ENODEV at once. Error replies (the server's errno) are not failures.
 *
 * Threads: any number of threads may issue requests at once (vCPUs with
 * trapped accesses). Each request gets a slot in a reply-waiter table and
 * its own msg_id; sends are serialized per socket by vfio/conn. Whoever
 * waits becomes the receiver when no one else is: it reads one message,
 * hands a reply to its waiter or serves a server->client command
 * (DMA_READ/WRITE, from the IOMMU) and gives the role back. The event loop
 * takes the same role through vfio_client_handle_ready() when the sockets
 * are readable while nobody waits. There is no lock shared between devices
 * and none held while a request waits for its reply.
 *
 * All functions return 0 or a negative errno: -ENODEV (device failed),
 * -ETIMEDOUT (no reply in time: the device fails), -EPROTO (the server
 * broke the protocol: the device fails), -(server errno) for an error
 * reply, -EINVAL for a bad argument.
 */
#ifndef MINIVMM_VFIO_CLIENT_H
#define MINIVMM_VFIO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

#include "vfio/proto/caps.h"
#include "vfio/client/iommu.h"
#include "devices/host_iommu.h"

/* Caps on what a server may make us allocate or handle. */
#define VFIO_CLIENT_MAX_REGIONS    16   /* DEVICE_GET_INFO num_regions */
#define VFIO_CLIENT_MAX_IRQS       8    /* DEVICE_GET_INFO num_irqs */
#define VFIO_CLIENT_MAX_SPARSE     32   /* sparse mmap areas per region */
#define VFIO_CLIENT_MAX_CAPS       16   /* region info capabilities */
#define VFIO_CLIENT_MAX_IOFDS      64   /* GET_REGION_IO_FDS sub-regions */
#define VFIO_CLIENT_IOFD_STRIDE_MAX 48  /* bytes per io-fd entry (40 spec,
                                           48 libvfio-user) */
#define VFIO_CLIENT_MAX_VECTORS    2048 /* interrupts of one index */
#define VFIO_CLIENT_WAITERS        64   /* requests in flight */
#define VFIO_CLIENT_RECV_FDS       64   /* max_msg_fds we advertise */
#define VFIO_CLIENT_DEFAULT_TIMEOUT_MS 5000

struct vfio_client;

struct vfio_client_opts {
    const char *name;        /* device name in messages ("blk0") */
    unsigned int timeout_ms; /* per reply; 0: the default */
    bool no_twin;            /* do not offer twin_socket */
    bool no_write_multi;     /* do not offer write_multiple */
    bool any_pgsize;         /* propose every DMA page size >= 4 KiB
                                (behind a vIOMMU), not just 4 KiB */
    /* Called once, on the thread that saw the failure, with no client
     * lock held: the device failed (disconnect, timeout, garbage). */
    void (*on_fail)(void *opaque);
    void *opaque;
    /* Called (with @opaque) after a VFIO_USER_DMA_WRITE served from the
     * IOMMU landed in [@iova, @iova + @len) and before it is acknowledged,
     * on whichever thread served it: the owner marks those pages dirty for
     * live migration (docs/migration.md, "Guest-RAM writers"). Optional. */
    void (*on_dma_write)(void *opaque, uint64_t iova, uint64_t len);
    /* Optional: a DMA_READ (@write false) or DMA_WRITE of the server hit
     * an IOVA outside its windows or without the permission; the server
     * gets an error reply either way (a vIOMMU reports it to the guest).
     * Called on the receiving thread. */
    void (*on_dma_fault)(void *opaque, uint64_t iova, uint64_t len,
                         bool write);
    void *fault_opaque;      /* on_dma_fault's opaque */
};

/* Connect to the server listening at @path (AF_UNIX) and negotiate
 * (VERSION with our JSON capabilities, twin socket when offered).
 * 0 or -errno with a sentence in @err. */
int vfio_client_connect(const char *path, const struct vfio_client_opts *o,
                        struct vfio_client **out, char *err, size_t errlen);

/* Same over an already connected stream socket @fd (ownership passes). */
int vfio_client_new(int fd, const struct vfio_client_opts *o,
                    struct vfio_client **out, char *err, size_t errlen);

/* Close the sockets and free. NULL is a no-op. */
void vfio_client_free(struct vfio_client *c);

/* After a failure: negotiate again over the new socket @fd (ownership
 * passes), then DMA_MAP every IOMMU window again. Waits until no request
 * is in flight. 0 or -errno (+ @err); the device stays failed on error. */
int vfio_client_reconnect(struct vfio_client *c, int fd, char *err,
                          size_t errlen);

/* Open a connected socket to @path: 0 with the fd in *@fd, or -errno. */
int vfio_client_dial(const char *path, int *fd);

bool vfio_client_failed(const struct vfio_client *c);
/* Declare the server broken (logs "NAME: refusing server: @why"). */
void vfio_client_fail(struct vfio_client *c, const char *why);
const char *vfio_client_name(const struct vfio_client *c);

/* The capabilities in effect after VERSION. */
const struct vfio_user_caps *vfio_client_caps(const struct vfio_client *c);
bool vfio_client_twin(const struct vfio_client *c);

/* Event-loop integration: an epoll fd holding the device's sockets; call
 * _handle_ready() when it is readable (level-triggered). */
int vfio_client_poll_fd(const struct vfio_client *c);
void vfio_client_handle_ready(struct vfio_client *c);

/* ---- device operations ---------------------------------------------- */

/* VFIO_USER_DEVICE_GET_INFO: flags VFIO_DEVICE_FLAGS_*; counts capped. */
struct vfio_client_dev_info {
    uint32_t flags;
    uint32_t num_regions; /* <= VFIO_CLIENT_MAX_REGIONS */
    uint32_t num_irqs;    /* <= VFIO_CLIENT_MAX_IRQS */
};
int vfio_client_device_info(struct vfio_client *c,
                            struct vfio_client_dev_info *out);

struct vfio_client_area {
    uint64_t offset; /* within the region, bytes, page aligned */
    uint64_t size;   /* bytes, page multiple, > 0 */
};

/* VFIO_USER_DEVICE_GET_REGION_INFO. @fd (caller closes) is the region's
 * mmap fd when flags has VFIO_REGION_INFO_FLAG_MMAP, else -1. Without a
 * sparse-mmap capability the whole region is mmap-able (has_sparse false). */
struct vfio_client_region {
    uint32_t index;
    uint32_t flags;       /* VFIO_REGION_INFO_FLAG_* */
    uint64_t size;        /* bytes */
    uint64_t mmap_offset; /* offset of the region in @fd */
    int fd;
    bool has_sparse;
    unsigned int nsparse; /* <= VFIO_CLIENT_MAX_SPARSE */
    struct vfio_client_area sparse[VFIO_CLIENT_MAX_SPARSE];
    bool has_type;        /* VFIO_REGION_INFO_CAP_TYPE */
    uint32_t type, subtype;
};
int vfio_client_region_info(struct vfio_client *c, uint32_t index,
                            struct vfio_client_region *out);

/* VFIO_USER_DEVICE_GET_REGION_IO_FDS: the ioeventfd sub-regions of region
 * @index (@region_size bytes). Entries of other types are skipped (they
 * stay trapped). Each entry's @fd points into @fds (closed by
 * vfio_client_iofds_close()). */
struct vfio_client_iofd {
    uint64_t offset;    /* within the region */
    uint32_t size;      /* 0 (any), 1, 2, 4 or 8 */
    uint32_t flags;     /* KVM_IOEVENTFD_FLAG_DATAMATCH | _PIO */
    uint64_t datamatch;
    int fd;
};
struct vfio_client_iofds {
    unsigned int n;
    struct vfio_client_iofd e[VFIO_CLIENT_MAX_IOFDS];
    unsigned int nfds;
    int fds[VFIO_CLIENT_RECV_FDS];
    uint32_t stride;    /* entry size the server used: 40 or 48 bytes */
};
int vfio_client_region_io_fds(struct vfio_client *c, uint32_t index,
                              uint64_t region_size,
                              struct vfio_client_iofds *out);
void vfio_client_iofds_close(struct vfio_client_iofds *f);

/* VFIO_USER_DEVICE_GET_IRQ_INFO; count capped at VFIO_CLIENT_MAX_VECTORS. */
int vfio_client_irq_info(struct vfio_client *c, uint32_t index,
                         struct vfio_irq_info *out);

/* VFIO_USER_DEVICE_SET_IRQS for interrupts [@start, @start + @count) of
 * @index. With VFIO_IRQ_SET_DATA_EVENTFD, @fds holds @count eventfds (sent
 * in several messages when the server takes fewer fds per message); with
 * @fds NULL they are de-assigned. VFIO_IRQ_SET_DATA_NONE: @fds unused. */
int vfio_client_set_irqs(struct vfio_client *c, uint32_t index,
                         uint32_t flags, uint32_t start, uint32_t count,
                         const int *fds);

/* VFIO_USER_REGION_READ/WRITE of @len bytes at @off in region @region,
 * split at max_data_xfer_size. A posted write (VFIO_USER_F_NO_REPLY) does
 * not wait; the server handles commands in order, so a later request sees
 * it. */
int vfio_client_region_read(struct vfio_client *c, uint32_t region,
                            uint64_t off, void *buf, uint64_t len);
int vfio_client_region_write(struct vfio_client *c, uint32_t region,
                             uint64_t off, const void *buf, uint64_t len,
                             bool posted);

/* VFIO_USER_REGION_WRITE_MULTI of @n small writes in order (one message
 * when the server offered write_multiple, else one REGION_WRITE each). */
struct vfio_client_write {
    uint32_t region;
    uint32_t len;       /* 1..8 bytes */
    uint64_t offset;
    uint8_t data[8];
};
int vfio_client_write_multi(struct vfio_client *c,
                            const struct vfio_client_write *w, unsigned int n);

/* This device's host IOMMU capabilities (devices/host_iommu.h) from the
 * negotiated VERSION capabilities: pgsizes, max_dma_maps as the mapping
 * limit, the server's x_iova_bits (64 when not stated), no reserved
 * ranges. Valid once the client is connected. */
void vfio_client_host_iommu(const struct vfio_client *c,
                            struct host_iommu_caps *caps);

/* DMA_UNMAP every window wholly inside [@iova, @last] (inclusive), one
 * message each, in address order; the mirror drops them. Windows that
 * straddle the range are left alone. Returns how many were unmapped, or
 * the first -errno (the rest are still tried). */
int vfio_client_dma_unmap_range(struct vfio_client *c, uint64_t iova,
                                uint64_t last);

/* VFIO_USER_DMA_MAP of @w (with its fd when w->fd >= 0, for dma=fd), then
 * the window joins the IOMMU that serves DMA_READ/WRITE. -ENOSPC beyond
 * the server's max_dma_maps. */
int vfio_client_dma_map(struct vfio_client *c, const struct iommu_window *w);
int vfio_client_dma_unmap(struct vfio_client *c, uint64_t iova,
                          uint64_t size);
/* The server's DMA capabilities against what the VM needs (before the
 * guest starts). 0 or -ENOTSUP with the limit named in @err. */
int vfio_client_check_dma(struct vfio_client *c,
                          const struct iommu_needs *needs, char *err,
                          size_t errlen);

/* VFIO_USER_DEVICE_RESET. */
int vfio_client_reset(struct vfio_client *c);

/* Counters (tests, bench, the API's "stats"). requests: round trips
 * (a request and its reply); posted: requests sent without a reply;
 * dma_reads/dma_writes: DMA_READ/DMA_WRITE messages served, dma_bytes
 * their data bytes. lat_hist[i] counts round trips that took less than
 * VFIO_CLIENT_LAT_BOUND_US(i) microseconds (and not less than the bound
 * of i - 1); the last bucket is unbounded. lat_sum_us: their total. */
#define VFIO_CLIENT_LAT_BUCKETS 16
#define VFIO_CLIENT_LAT_BOUND_US(i) (16ULL << (i))
struct vfio_client_stats {
    uint64_t requests, dma_reads, dma_writes, posted;
    uint64_t dma_bytes, lat_sum_us;
    uint64_t lat_hist[VFIO_CLIENT_LAT_BUCKETS];
};
void vfio_client_stats(const struct vfio_client *c,
                       struct vfio_client_stats *out);

#endif
