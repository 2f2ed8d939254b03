/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: the server object shared by the server's files
 * (server.c: life, loop and dispatch; server_io.c, server_dma.c,
 * server_mig*.c: the commands) and the reply helper they all use.
 * Spec: vfio-user.rst "Header" (replies). */
#ifndef MINIVMM_VFIO_SERVER_CORE_H
#define MINIVMM_VFIO_SERVER_CORE_H

#include "vfio/proto/conn.h"
#include "vfio/proto/endpoint.h"
#include "vfio/server/server_types.h"

enum srv_state {
    SRV_IDLE,       /* no client */
    SRV_CONNECTED,  /* client connected, VERSION not yet done */
    SRV_READY,      /* VERSION done: every command allowed */
};

struct srv_dma {
    uint64_t iova;
    uint64_t size;
    uint32_t prot;          /* VFIO_USER_F_DMA_REGION_READ/WRITE */
    uint8_t *host;          /* NULL: message-based */
    void *map;              /* mmap() base (page-aligned), or NULL */
    size_t map_len;
    unsigned long *dirty;   /* one bit per VFIO_SRV_LOG_PGSIZE, or NULL */
};

struct srv_irq {
    uint32_t count;
    int *trig;              /* [count] eventfds, -1: none */
    int *mask_fd;
    int *unmask_fd;
    uint8_t *masked;
    uint8_t *pending;
};

struct srv_ioev {
    int fd;
    uint32_t region;
    uint32_t cookie;
    const struct vfio_srv_ioeventfd *desc;
};

/* A DMA_WRITE or DMA_READ sent whose reply is collected later (posted
 * writes and reads, vfio_srv_dma_write_posted()). */
#define SRV_DMA_POSTED 32u
struct srv_post {
    struct vfio_user_call call;
    struct {                            /* the request: the header of */
        uint64_t address, count;        /* struct vfio_user_dma_access */
    } a;
    uint8_t reply[64];                  /* 0, 12 or 16 bytes expected */
    int handle;                         /* vfio_user_ep_call_start() */
    bool read;                          /* a DMA_READ: data into @dst */
};

struct vfio_srv {
    struct vfio_srv_dev dev;
    struct vfio_srv_region regions[VFIO_SRV_MAX_REGIONS];
    struct vfio_user_caps own;
    struct vfio_user_caps eff;
    int listen_fd;
    int epfd;
    enum srv_state state;
    bool attached;          /* connection came from vfio_srv_attach() */
    bool gone;              /* attached client left */
    struct vfio_user_ep *ep;    /* the client connection's engine */
    struct vfio_user_conn *conn; /* ep's connection, NULL: no client */
    uint8_t *buf;           /* command payloads, buf_size bytes */
    uint8_t *obuf;          /* reply payloads */
    uint8_t *dbuf;          /* replies to our DMA_READ/WRITE */
    uint32_t buf_size;      /* bytes of each of the three buffers */
    bool drop;              /* disconnect after the current command */
    bool closing;           /* destroy: no device callbacks */
    struct vfio_user_msg rx;    /* the command being handled */
    struct srv_dma *dma;
    uint32_t ndma, dma_cap;
    struct srv_irq irqs[VFIO_PCI_NUM_IRQS];
    struct srv_ioev *ioev;
    uint32_t nioev;
    bool logging;
    uint32_t mig_state;
    uint8_t *mig_buf;       /* save stream (saving) or load stream */
    size_t mig_len, mig_pos, mig_cap;
    struct srv_mig_v1 *v1;  /* migration v1 state, NULL: v2 */
    struct vfio_srv_stats stats;
    struct srv_post post[SRV_DMA_POSTED];
    uint32_t nposted;       /* post[0, nposted) wait for their replies */
    int post_err;           /* first error of a posted write, -errno */
    uint32_t timeout_ms;    /* deadline of a DMA reply; 0: none */
};

/* One command handler: 0 when it has replied, or -errno for the error
 * reply the dispatcher then sends. */
typedef int (*srv_cmd_fn)(struct vfio_srv *s, struct vfio_user_msg *m);

/* Reply to @m with @len bytes at @payload and @nfds fds (nothing if the
 * command asked for no reply). */
int srv_reply(struct vfio_srv *s, struct vfio_user_msg *m,
              const void *payload, size_t len, const int *fds,
              unsigned int nfds);

#endif
