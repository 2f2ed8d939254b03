/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-blk device: virtio-blk (virtio/blk.h) behind a virtio-pci function
 * built from the shared models (regions.h), served over vfio-user by the
 * server core (vfio/server.h).
 *
 * Guest memory is the client's DMA maps (direct for fd-backed maps,
 * DMA_READ/WRITE messages otherwise); doorbells arrive as ioeventfds
 * (offered for the notify area of BAR 2) or as REGION_WRITEs; interrupts
 * go to the MSI-X eventfds the client set, else INTx; migration state is
 * an FDT with the virtio-blk core ("virtio-blk") and the transport
 * ("vpci"). All calls from one thread.
 */
#ifndef VFU_BLK_BLKDEV_H
#define VFU_BLK_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vfu_blk;

struct vfu_blk_params {
    int disk_fd;        /* backing file, stays the caller's */
    bool readonly;
    uint16_t queues;    /* 1..VIRTIO_DEV_MAX_QUEUES */
    int listen_fd;      /* listening socket, or -1 */
    int conn_fd;        /* connected socket (when listen_fd is -1) */
    bool strict;        /* server core's strict mode (vfio/server.h) */
    bool mig_v1;        /* migration as spec 0.9.1 (region, DIRTY_PAGES) */
    /* A constrained DMA path (0: the server core's defaults): */
    unsigned int iova_bits;     /* stated as x_iova_bits and enforced */
    uint64_t pgsizes;           /* DMA page sizes offered */
    uint32_t max_dma_maps;      /* DMA windows at once */
    bool no_ioeventfds;         /* offer no doorbell ioeventfds: every
                                 * doorbell traps (tests, issue 16) */
};

struct vfu_blk_counters {
    uint64_t requests;
    uint64_t bytes_read, bytes_written;
    uint64_t errors;
    uint64_t doorbells_ioeventfd;   /* kicks through an ioeventfd */
    uint64_t doorbells_region;      /* kicks through REGION_WRITE */
    uint64_t irqs_msix, irqs_intx;  /* interrupts raised */
    uint64_t dma_msgs;              /* DMA_READ/WRITE messages sent */
    uint64_t dma_rounds;            /* waits for their replies */
    uint64_t commands, connections;
    uint64_t wakeups;               /* returns of vfu-blk's blocking waits:
                                     * its epoll_wait, DMA reply waits */
    uint64_t msgs_sent, msgs_received; /* vfio-user messages each way */
};

/* 0 or -errno. Takes ownership of listen_fd/conn_fd on success. */
int vfu_blk_create(const struct vfu_blk_params *p, struct vfu_blk **out);
void vfu_blk_destroy(struct vfu_blk *d);

/* Fds to poll (readable) and their handlers. vfu_blk_srv_ready() returns
 * -ENOTCONN when a client given as conn_fd has left. */
int vfu_blk_srv_fd(const struct vfu_blk *d);
int vfu_blk_io_fd(const struct vfu_blk *d);
int vfu_blk_srv_ready(struct vfu_blk *d);
int vfu_blk_io_ready(struct vfu_blk *d);
/* The doorbell ioeventfds, polled by the caller's loop instead of
 * through vfu_blk_srv_fd() (vfio_srv_take_ioeventfds()): up to @max into
 * @fds, the count returned; fds[i] readable → vfu_blk_ioeventfd_ready(d,
 * i). */
uint32_t vfu_blk_take_ioeventfds(struct vfu_blk *d, int *fds, uint32_t max);
void vfu_blk_ioeventfd_ready(struct vfu_blk *d, uint32_t idx);

/* The counters by name (the keys of the SIGUSR1 line and of the
 * --stats-file JSON, in that order) and their place in the struct. */
struct vfu_blk_counter_name {
    const char *name;
    size_t off;          /* offsetof(struct vfu_blk_counters, ...) */
};
#define VFU_BLK_NR_COUNTERS 15
extern const struct vfu_blk_counter_name
    vfu_blk_counter_names[VFU_BLK_NR_COUNTERS];

/* Counter @i (below VFU_BLK_NR_COUNTERS) of @c. */
uint64_t vfu_blk_counter(const struct vfu_blk_counters *c, unsigned int i);

/* The owner's event loop returned from its wait once (a wakeup). */
void vfu_blk_count_wakeup(struct vfu_blk *d);

void vfu_blk_get_counters(const struct vfu_blk *d,
                          struct vfu_blk_counters *c);
/* One line: "vfu-blk: requests=N bytes_read=N bytes_written=N errors=N
 * doorbells_ioeventfd=N doorbells_region_write=N irqs_msix=N irqs_intx=N
 * dma_messages=N commands=N connections=N wakeups=N messages_sent=N
 * messages_received=N". */
void vfu_blk_print_counters(const struct vfu_blk *d, FILE *f);

#endif
