/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client core: the client object over its endpoint
 * (vfio/proto/endpoint.h: ids, reply waiters, receiver role, the server's
 * commands), failure, event-loop hooks and counters. The device
 * operations (client.h, client_dma.h) stand on it; see client.h for the
 * protocol rules. Spec: vfio-user.rst "Command Concurrency",
 * "Socket Disconnection Behavior".
 */
#ifndef MINIVMM_VFIO_CLIENT_CORE_H
#define MINIVMM_VFIO_CLIENT_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/client/iommu.h"
#include "vfio/proto/caps.h"
#include "vfio/proto/endpoint.h"

/* Caps on what a server may make us allocate or handle. */
#define VFIO_CLIENT_MAX_REGIONS    16   /* DEVICE_GET_INFO num_regions */
#define VFIO_CLIENT_MAX_IRQS       8    /* DEVICE_GET_INFO num_irqs */
#define VFIO_CLIENT_MAX_SPARSE     32   /* sparse mmap areas per region */
#define VFIO_CLIENT_MAX_CAPS       16   /* region info capabilities */
#define VFIO_CLIENT_MAX_IOFDS      64   /* GET_REGION_IO_FDS sub-regions */
#define VFIO_CLIENT_IOFD_STRIDE_MAX 48  /* bytes per io-fd entry (40 spec,
                                           48 libvfio-user) */
#define VFIO_CLIENT_MAX_VECTORS    2048 /* interrupts of one index */
#define VFIO_CLIENT_WAITERS        VFIO_USER_EP_WAITERS /* in flight */
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
     * Called on the receiving thread, with @fault_opaque. */
    void (*on_dma_fault)(void *opaque, uint64_t iova, uint64_t len,
                         bool write);
    void *fault_opaque;
};

/* Counters (tests, bench, the API's "stats"). requests: round trips
 * (a request and its reply); posted: requests sent without a reply;
 * dma_reads/dma_writes: DMA_READ/DMA_WRITE messages served, dma_bytes
 * their data bytes. lat_hist[i] counts round trips that took less than
 * VFIO_CLIENT_LAT_BOUND_US(i) microseconds (and not less than the bound
 * of i - 1); the last bucket is unbounded. lat_sum_us: their total. */
#define VFIO_CLIENT_LAT_BUCKETS 16
#define VFIO_CLIENT_LAT_BOUND_US(i) (16ULL << (i))
/* msgs_sent/msgs_received: every vfio-user message on the device's
 * sockets each way (commands, replies, posted writes, DMA requests),
 * across reconnects; waits: blocking waits for the server that returned
 * (threads other than the event loop: vCPUs in trapped accesses, setup).
 * docs/api.md "stats". */
struct vfio_client_stats {
    uint64_t requests, dma_reads, dma_writes, posted;
    uint64_t dma_bytes, lat_sum_us;
    uint64_t lat_hist[VFIO_CLIENT_LAT_BUCKETS];
    uint64_t msgs_sent, msgs_received, waits;
};
void vfio_client_stats(const struct vfio_client *c,
                       struct vfio_client_stats *out);

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


/* ---- for the vfio/client files only ---------------------------------- */

struct vfio_client {
    char name[32];
    struct vfio_client_opts opts;
    struct vfio_user_ep *ep;  /* the connection's request/reply engine */
    struct vfio_user_caps proposed;
    struct vfio_user_caps eff;
    pthread_rwlock_t iommu_lock;
    struct iommu iommu;       /* mirrored DMA windows */
    atomic_uint_fast64_t n_requests, n_dma_reads, n_dma_writes, n_posted;
    atomic_uint_fast64_t n_dma_bytes, lat_sum_us;
    atomic_uint_fast64_t lat_hist[VFIO_CLIENT_LAT_BUCKETS];
    atomic_uint_fast64_t msgs_base[2]; /* sent, received: old connections */
};

/* Exchange @call with the server on the main socket (counted in the
 * stats). 0 or a negative errno (endpoint.h). */
int client_call(struct vfio_client *c, struct vfio_user_call *call);

/* Refuse the server: log "@c->name: refusing server: ...", fail. */
void client_refuse(struct vfio_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The endpoint's on_fail: log the failure, call opts.on_fail. */
void client_on_fail(void *opaque, const char *what, const char *why);

#endif
