/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by vfio/client*.c; not for other modules. */
#ifndef MINIVMM_VFIO_CLIENT_PRIV_H
#define MINIVMM_VFIO_CLIENT_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "vfio/client/client.h"
#include "vfio/proto/conn.h"

/* One request/reply exchange. The reply payload goes to @reply (at most
 * @reply_cap bytes, at least @reply_min), its fds (at most @rfds_cap) to
 * @rfds. */
struct client_call {
    uint16_t cmd;
    uint32_t flags;           /* 0 or VFIO_USER_F_NO_REPLY */
    const void *req;
    size_t req_len;
    const int *fds;
    unsigned int nfds;
    void *reply;
    uint32_t reply_cap;
    uint32_t reply_min;
    uint32_t reply_len;       /* out */
    int *rfds;
    unsigned int rfds_cap;
    unsigned int nrfds;       /* out */
};

struct client_waiter {
    struct client_call *call;
    struct vfio_user_expect exp;
    uint16_t id;
    bool used;
    bool done;
    int result;
};

struct vfio_client {
    char name[32];
    struct vfio_client_opts opts;
    pthread_mutex_t lock;     /* everything below but the IOMMU */
    pthread_cond_t cond;      /* a reply arrived / the role is free */
    struct vfio_user_conn *conn;
    struct vfio_user_caps proposed;
    struct vfio_user_caps eff;
    int epfd;                 /* main + twin sockets, for the loop */
    int tfd;                  /* timerfd in epfd: the conn's deadlines */
    unsigned int parked;      /* channels taken out of epfd (bit mask) */
    bool rx_busy;             /* someone holds the receiver role */
    unsigned int users;       /* requests using @conn */
    atomic_bool failed;
    bool fail_reported;
    struct vfio_user_msg rx;  /* receiver's message (role holder only) */
    struct client_waiter w[VFIO_CLIENT_WAITERS];
    pthread_rwlock_t iommu_lock;
    struct iommu iommu;       /* mirrored DMA windows */
    atomic_uint_fast64_t n_requests, n_dma_reads, n_dma_writes, n_posted;
    atomic_uint_fast64_t n_dma_bytes, lat_sum_us;
    atomic_uint_fast64_t lat_hist[VFIO_CLIENT_LAT_BUCKETS];
};

/* Exchange @call with the server (the receive path of client.c). */
int client_call(struct vfio_client *c, struct client_call *call);

/* Refuse the server: log "@c->name: refusing server: ...", fail. */
void client_refuse(struct vfio_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Serve a server->client command held in @msg, received on @chan
 * (client_dma.c). 0 when replied, or -errno for an error reply. */
int client_serve_command(struct vfio_client *c, enum vfio_user_chan chan,
                         struct vfio_user_msg *msg);

/* DMA_MAP every IOMMU window again (after reconnecting). */
int client_dma_replay(struct vfio_client *c, char *err, size_t errlen);

#endif
