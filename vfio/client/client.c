/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: connecting, VERSION, reconnecting; the endpoint
 * (vfio/proto/endpoint.h) carries the requests, client_dma.c serves the
 * server's commands. See client.h.
 * Spec: vfio-user.rst "VFIO_USER_VERSION",
 * "Socket Disconnection Behavior". */
#include "vfio/client/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- connection --------------------------------------------------------- */

int vfio_client_dial(const char *path, int *fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int r = -errno;

        close(s);
        return r;
    }
    *fd = s;
    return 0;
}

static void propose(struct vfio_client *c)
{
    vfio_user_caps_default(&c->proposed);
    c->proposed.max_msg_fds = VFIO_CLIENT_RECV_FDS;
    c->proposed.max_data_xfer_size = VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE;
    c->proposed.twin_socket = !c->opts.no_twin;
    c->proposed.write_multiple = !c->opts.no_write_multi;
    if (c->opts.any_pgsize)
        c->proposed.pgsizes = ~(uint64_t)0xfff;
    /* 0.9.1 "migration": lets a v1 server offer region-based migration
     * and DIRTY_PAGES (client_mig_v1.h); newer servers ignore it. */
    c->proposed.migration = true;
    c->proposed.mig_pgsize = 4096;
}

/* Take the twin socket named by the reply; close the other fds. */
static int take_fds(struct vfio_client *c, int *fds, unsigned int nfds,
                    char *err, size_t errlen)
{
    int r = 0;

    if (c->eff.twin_socket) {
        r = vfio_user_conn_set_twin(vfio_user_ep_conn(c->ep), fds[c->eff.twin_fd_index]);
        if (r == 0)
            fds[c->eff.twin_fd_index] = -1;
        else
            snprintf(err, errlen, "twin socket fd unusable: %s",
                     strerror(-r));
    } else if (nfds) {
        snprintf(err, errlen, "inconsistent VERSION reply: %u fds without "
                 "a twin socket", nfds);
        r = -EPROTO;
    }
    for (unsigned int i = 0; i < nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return r;
}

static int check_version(struct vfio_client *c, const void *p, uint32_t len,
                         int *fds, unsigned int nfds, char *err,
                         size_t errlen)
{
    struct vfio_user_caps reply;
    uint16_t major, minor;
    int r;

    r = vfio_user_version_decode(p, len, &major, &minor, &reply, err,
                                 errlen);
    if (r == 0)
        r = vfio_user_version_check_reply(VFIO_USER_VERSION_MAJOR,
                                          VFIO_USER_VERSION_MINOR, major,
                                          minor, err, errlen);
    if (r == 0)
        r = vfio_user_caps_check_reply(&c->proposed, &reply, nfds, &c->eff,
                                       err, errlen);
    if (r) {
        for (unsigned int i = 0; i < nfds; i++)
            close(fds[i]);
        return r;
    }
    return take_fds(c, fds, nfds, err, errlen);
}

/* VERSION over the fresh connection (no one else uses it yet). */
static int negotiate(struct vfio_client *c, char *err, size_t errlen)
{
    struct vfio_user_call call = {.cmd = VFIO_USER_VERSION};
    int fds[VFIO_CLIENT_RECV_FDS];
    void *req = NULL;
    size_t len;
    int r;

    vfio_user_conn_set_caps(vfio_user_ep_conn(c->ep), &c->proposed, &c->proposed);
    r = vfio_user_version_encode(VFIO_USER_VERSION_MAJOR,
                                 VFIO_USER_VERSION_MINOR, &c->proposed, &req,
                                 &len);
    call.reply = malloc(VFIO_USER_CAPS_JSON_MAX + 8);
    if (r || !call.reply) {
        free(req);
        free(call.reply);
        return -ENOMEM;
    }
    call.req = req;
    call.req_len = len;
    call.reply_cap = VFIO_USER_CAPS_JSON_MAX + 8;
    call.reply_min = sizeof(struct vfio_user_version);
    call.rfds = fds;
    call.rfds_cap = VFIO_CLIENT_RECV_FDS;
    r = client_call(c, &call);
    if (r)
        snprintf(err, errlen, "VERSION: %s", strerror(-r));
    else
        r = check_version(c, call.reply, call.reply_len, fds, call.nrfds,
                          err, errlen);
    free(req);
    free(call.reply);
    if (r == 0)
        vfio_user_conn_set_caps(vfio_user_ep_conn(c->ep), &c->proposed, &c->eff);
    return r;
}

static int client_alloc(const struct vfio_client_opts *o,
                        struct vfio_client **out)
{
    struct vfio_client *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->opts = *o;
    if (!c->opts.timeout_ms)
        c->opts.timeout_ms = VFIO_CLIENT_DEFAULT_TIMEOUT_MS;
    snprintf(c->name, sizeof(c->name), "%s", o->name ? o->name : "dev");
    pthread_rwlock_init(&c->iommu_lock, NULL);
    iommu_init(&c->iommu, 0);
    propose(c);
    *out = c;
    return 0;
}

/* Wrap socket @fd (ownership passes) in a connection with our deadline. */
static int client_conn(struct vfio_client *c, int fd,
                       struct vfio_user_conn **conn, char *err,
                       size_t errlen)
{
    int r = vfio_user_conn_new(fd, conn);

    if (r) {
        close(fd);
        snprintf(err, errlen, "not a stream socket: %s", strerror(-r));
        return r;
    }
    vfio_user_conn_set_timeout(*conn, c->opts.timeout_ms);
    return 0;
}

/* The endpoint over @conn: replies within the timeout, the server's
 * DMA_READ/WRITE served by client_dma.c, failures logged. */
static int client_ep(struct vfio_client *c, struct vfio_user_conn *conn)
{
    struct vfio_user_ep_opts eo = {
        .peer = "server",
        .timeout_ms = c->opts.timeout_ms,
        .on_cmd = client_dma_serve,
        .on_fail = client_on_fail,
        .opaque = c,
    };

    return vfio_user_ep_new(conn, &eo, &c->ep);
}

int vfio_client_new(int fd, const struct vfio_client_opts *o,
                    struct vfio_client **out, char *err, size_t errlen)
{
    struct vfio_user_conn *conn;
    struct vfio_client *c;
    int r;

    *out = NULL;
    r = client_alloc(o, &c);
    if (r) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return r;
    }
    r = client_conn(c, fd, &conn, err, errlen);
    if (r == 0 && (r = client_ep(c, conn)) < 0)
        snprintf(err, errlen, "out of memory");
    if (r == 0)
        r = negotiate(c, err, errlen);
    if (r == 0 && (r = vfio_user_ep_watch(c->ep)) < 0)
        snprintf(err, errlen, "epoll: %s", strerror(-r));
    if (r == 0)
        c->iommu.max_windows = c->eff.max_dma_maps;
    if (r) {
        vfio_client_free(c);
        return r;
    }
    *out = c;
    return 0;
}

int vfio_client_connect(const char *path, const struct vfio_client_opts *o,
                        struct vfio_client **out, char *err, size_t errlen)
{
    int fd, r = vfio_client_dial(path, &fd);

    *out = NULL;
    if (r) {
        snprintf(err, errlen, "cannot connect to %s: %s", path,
                 strerror(-r));
        return r;
    }
    return vfio_client_new(fd, o, out, err, errlen);
}

void vfio_client_free(struct vfio_client *c)
{
    if (!c)
        return;
    vfio_user_ep_free(c->ep);
    iommu_fini(&c->iommu);
    pthread_rwlock_destroy(&c->iommu_lock);
    free(c);
}

int vfio_client_reconnect(struct vfio_client *c, int fd, char *err,
                          size_t errlen)
{
    struct vfio_user_conn *conn;
    int r = client_conn(c, fd, &conn, err, errlen);

    uint64_t sent, recvd;

    if (r)
        return r;
    /* The failed connection's messages stay counted (monotonic stats). */
    vfio_user_conn_msg_counts(vfio_user_ep_conn(c->ep), &sent, &recvd);
    atomic_fetch_add_explicit(&c->msgs_base[0], sent, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->msgs_base[1], recvd, memory_order_relaxed);
    vfio_user_ep_swap_conn(c->ep, conn);
    r = negotiate(c, err, errlen);
    if (r == 0 && (r = vfio_user_ep_watch(c->ep)) < 0)
        snprintf(err, errlen, "epoll: %s", strerror(-r));
    if (r == 0)
        r = client_dma_replay(c, err, errlen);
    if (!vfio_user_ep_settle(c->ep, r == 0) && r == 0) {
        snprintf(err, errlen, "server failed during the replay");
        r = -EIO;
    }
    return r;
}
