/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: the device operations of one remote device (this
 * header: connecting, VERSION, the device operations; client_core.h: the
 * client object, failure, event loop, stats; client_dma.h: DMA windows).
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
 * trapped accesses); the engine is the endpoint (vfio/proto/endpoint.h),
 * shared with the server core and vfu-test. Each request gets a slot in a
 * reply-waiter table and its own msg_id; sends are serialized per socket
 * by vfio/proto/conn. Whoever
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

#include "vfio/client/client_core.h"
#include "vfio/client/client_dma.h"
#include "vfio/client/iommu.h"
#include "vfio/proto/caps.h"

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

/* VFIO_USER_DEVICE_RESET. */
int vfio_client_reset(struct vfio_client *c);

#endif
