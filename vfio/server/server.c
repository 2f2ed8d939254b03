/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: connection lifecycle, command dispatch, VERSION,
 * ioeventfds. See server.h. Spec: vfio-user.rst "VFIO_USER_VERSION",
 * "Socket Disconnection Behavior", "Command Concurrency". */
#include "vfio/server/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/proto/migration.h"
#include "vfio/server/server_mig.h"
#include "vfio/server/server_mig_v1.h"
#include "vmm/log.h"

#define TAG_LISTEN 1ull
#define TAG_MAIN   2ull
#define TAG_IOEV   3ull
#define TAG(kind, idx) (((kind) << 32) | (uint32_t)(idx))
#define SERVE_BATCH 64 /* messages handled per readiness of the socket */

static int srv_cmd_version(struct vfio_srv *s, struct vfio_user_msg *m);
static int srv_cmd_s2c_only(struct vfio_srv *s, struct vfio_user_msg *m);

/* Per command: handler and the least payload it needs (its fixed part). */
static const struct {
    srv_cmd_fn fn;
    uint32_t min_payload;
} cmd_table[VFIO_USER_MAX_COMMAND] = {
    [VFIO_USER_VERSION] = {srv_cmd_version, 4},
    [VFIO_USER_DMA_MAP] = {srv_cmd_dma_map, 32},
    [VFIO_USER_DMA_UNMAP] = {srv_cmd_dma_unmap, 24},
    [VFIO_USER_DEVICE_GET_INFO] = {srv_cmd_device_info, 16},
    [VFIO_USER_DEVICE_GET_REGION_INFO] = {srv_cmd_region_info, 32},
    [VFIO_USER_DEVICE_GET_REGION_IO_FDS] = {srv_cmd_region_io_fds, 16},
    [VFIO_USER_DEVICE_GET_IRQ_INFO] = {srv_cmd_irq_info, 16},
    [VFIO_USER_DEVICE_SET_IRQS] = {srv_cmd_set_irqs, 20},
    [VFIO_USER_REGION_READ] = {srv_cmd_region_read, 16},
    [VFIO_USER_REGION_WRITE] = {srv_cmd_region_write, 16},
    [VFIO_USER_DMA_READ] = {srv_cmd_s2c_only, 0},
    [VFIO_USER_DMA_WRITE] = {srv_cmd_s2c_only, 0},
    [VFIO_USER_DEVICE_RESET] = {srv_cmd_reset, 0},
    [VFIO_USER_DIRTY_PAGES] = {srv_cmd_dirty_pages, 8},
    [VFIO_USER_REGION_WRITE_MULTI] = {srv_cmd_write_multi, 8},
    [VFIO_USER_DEVICE_FEATURE] = {srv_cmd_feature, 8},
    [VFIO_USER_MIG_DATA_READ] = {srv_cmd_mig_read, 8},
    [VFIO_USER_MIG_DATA_WRITE] = {srv_cmd_mig_write, 8},
};

static int srv_cmd_s2c_only(struct vfio_srv *s, struct vfio_user_msg *m)
{
    (void)s;
    (void)m;
    return -EINVAL; /* server->client commands */
}

/* ---- buffers and VERSION ----------------------------------------------- */

static int srv_buffers(struct vfio_srv *s, uint32_t size)
{
    uint8_t *b[3];
    int i;

    if (size <= s->buf_size)
        return 0;
    for (i = 0; i < 3; i++) {
        b[i] = malloc(size);
        if (!b[i]) {
            while (i--)
                free(b[i]);
            return -ENOMEM;
        }
    }
    free(s->buf);
    free(s->obuf);
    free(s->dbuf);
    s->buf = b[0];
    s->obuf = b[1];
    s->dbuf = b[2];
    s->buf_size = size;
    return 0;
}

/* Negotiate (spec "VFIO_USER_VERSION"): reply with the consistent subset
 * of capabilities and, if both sides offer it, the twin socket. */
static int srv_cmd_version(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_caps peer, reply;
    uint16_t major, minor, out_minor;
    int twin = -1, r;
    void *pl = NULL;
    size_t len;
    char err[160];

    s->drop = true; /* unless negotiation succeeds */
    r = vfio_user_version_decode(m->payload, m->payload_len, &major, &minor,
                                 &peer, err, sizeof(err));
    if (!r)
        r = vfio_user_version_choose(major, minor, &out_minor, err,
                                     sizeof(err));
    if (!r)
        r = vfio_user_caps_negotiate_server(&s->own, &peer, &reply, err,
                                            sizeof(err));
    if (r) {
        log_err("vfio-user server: VERSION refused: %s\n", err);
        return r;
    }
    if (reply.twin_socket) {
        r = vfio_user_conn_twin_pair(s->conn, &twin);
        if (r)
            return r;
        reply.twin_fd_index = 0;
    }
    r = vfio_user_version_encode(VFIO_USER_VERSION_MAJOR, out_minor, &reply,
                                 &pl, &len);
    if (!r)
        r = srv_reply(s, m, pl, len, &twin, twin >= 0 ? 1 : 0);
    free(pl);
    if (twin >= 0)
        close(twin);
    if (r)
        return r;
    vfio_user_conn_set_caps(s->conn, &s->own, &reply);
    r = srv_buffers(s, vfio_user_conn_max_msg_size(s->conn));
    if (r)
        return r;
    s->eff = reply;
    s->state = SRV_READY;
    s->drop = false;
    return 0;
}

/* Strict mode (server.h): the commands libvfio-user serves while the
 * device is stopped (STOP, STOP_COPY, RESUMING); true if @cmd may run. */
static bool srv_strict_allows(const struct vfio_srv *s, uint16_t cmd)
{
    uint32_t st = s->mig_state;

    if (!s->dev.strict || (st != VFIO_DEVICE_STATE_STOP &&
                           st != VFIO_DEVICE_STATE_STOP_COPY &&
                           st != VFIO_DEVICE_STATE_RESUMING))
        return true;
    switch (cmd) {
    case VFIO_USER_REGION_READ:
    case VFIO_USER_REGION_WRITE:
    case VFIO_USER_REGION_WRITE_MULTI:
    case VFIO_USER_DEVICE_FEATURE:
    case VFIO_USER_MIG_DATA_READ:
    case VFIO_USER_MIG_DATA_WRITE:
    case VFIO_USER_DMA_MAP:
    case VFIO_USER_DMA_UNMAP:
        return true;
    default:
        log_warn("vfio-user server: bad command %u while device in "
                 "%s state (strict)\n", cmd, vfio_user_mig_state_name(st));
        return false;
    }
}

/* Check and run one command; the single place error replies are sent. */
static void srv_dispatch(struct vfio_srv *s, struct vfio_user_msg *m)
{
    uint16_t cmd = m->hdr.cmd;
    int r;

    if (cmd >= VFIO_USER_MAX_COMMAND || !cmd_table[cmd].fn)
        r = -ENOTSUP;
    else if (m->payload_len < cmd_table[cmd].min_payload)
        r = -EINVAL;
    else if ((s->state == SRV_READY) == (cmd == VFIO_USER_VERSION))
        r = -EINVAL; /* VERSION first, and only once */
    else if (!srv_strict_allows(s, cmd))
        r = -EINVAL;
    else
        r = cmd_table[cmd].fn(s, m);
    s->stats.commands++;
    if (r < 0) {
        s->stats.errors++;
        if (!(m->hdr.flags & VFIO_USER_F_NO_REPLY) && s->conn)
            vfio_user_conn_send_error(s->conn, VFIO_USER_CHAN_MAIN, &m->hdr,
                                      -r);
    }
}

/* ---- connection lifecycle ---------------------------------------------- */

static void srv_listen_enable(struct vfio_srv *s, bool on)
{
    struct epoll_event ev = {.events = on ? EPOLLIN : 0,
                             .data.u64 = TAG(TAG_LISTEN, 0)};

    if (s->listen_fd >= 0)
        epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &ev);
}

/* Add the current connection's message and wait counts to @st. */
static void srv_count_msgs(const struct vfio_srv *s, struct vfio_srv_stats *st)
{
    uint64_t sent, recvd;

    if (!s->conn)
        return;
    vfio_user_conn_msg_counts(s->conn, &sent, &recvd);
    st->msgs_sent += sent;
    st->msgs_received += recvd;
    if (s->ep)
        st->waits += vfio_user_ep_waits(s->ep);
}

/* Spec "Client Disconnection": unmap all DMA, close the client's IRQ
 * fds, keep the device state, accept the next client. */
static void srv_disconnect(struct vfio_srv *s, const char *why)
{
    if (!s->conn)
        return;
    if (why)
        log_warn("vfio-user server: client dropped: %s\n", why);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL,
              vfio_user_conn_fd(s->conn, VFIO_USER_CHAN_MAIN), NULL);
    srv_dma_unmap_all(s);
    srv_irqs_close(s);
    s->logging = false;
    vfio_srv_dma_flush(s); /* no call may be in flight at the free */
    srv_count_msgs(s, &s->stats);  /* the client's messages stay counted */
    vfio_user_ep_free(s->ep); /* and its connection, deferred commands */
    s->ep = NULL;
    s->conn = NULL;
    s->state = SRV_IDLE;
    s->drop = false;
    if (s->attached)
        s->gone = true;
    srv_listen_enable(s, true);
}

/* The endpoint failed (the client broke the protocol while we waited
 * for a DMA reply, or it left): the serve loop drops the client. */
static void srv_ep_failed(void *opaque, const char *what, const char *why)
{
    (void)opaque;
    log_debug("vfio-user server: %s%s\n", what, why);
}

int vfio_srv_attach(struct vfio_srv *s, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = TAG(TAG_MAIN, 0)};
    struct vfio_user_ep_opts eo = {
        .peer = "client", .server = true, .on_fail = srv_ep_failed,
        .opaque = s, .timeout_ms = s->timeout_ms,
    };
    struct vfio_user_conn *conn;
    struct vfio_user_caps def;
    int r;

    if (s->conn)
        return -EBUSY;
    r = vfio_user_conn_new(fd, &conn);
    if (r)
        return r;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        r = -errno;
        vfio_user_conn_free(conn);
        return r;
    }
    r = vfio_user_ep_new(conn, &eo, &s->ep); /* frees conn on error */
    if (r) {
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
        return r;
    }
    s->conn = conn;
    vfio_user_caps_default(&def);
    vfio_user_conn_set_caps(s->conn, &s->own, &def);
    s->eff = def;
    s->state = SRV_CONNECTED;
    s->attached = s->listen_fd < 0;
    s->gone = false;
    s->stats.connections++;
    srv_listen_enable(s, false);
    return 0;
}

static int srv_accept(struct vfio_srv *s)
{
    int fd, r;

    fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    r = vfio_srv_attach(s, fd);
    if (r)
        close(fd);
    return r == -EBUSY ? 0 : r;
}

/* ---- serving ----------------------------------------------------------- */

/* Error reply to a command that failed transport validation but left the
 * stream in step (e.g. too many fds). */
static void srv_reject(struct vfio_srv *s, struct vfio_user_msg *m, int r)
{
    uint32_t type = m->hdr.flags & VFIO_USER_F_TYPE_MASK;

    s->stats.errors++;
    if (m->hdr.msg_size && type == VFIO_USER_F_TYPE_COMMAND &&
        !(m->hdr.flags & VFIO_USER_F_NO_REPLY))
        vfio_user_conn_send_error(s->conn, VFIO_USER_CHAN_MAIN, &m->hdr,
                                  r == -EMSGSIZE ? E2BIG : EINVAL);
}

static void srv_run_deferred(struct vfio_srv *s)
{
    struct vfio_user_msg *m;

    while (s->conn && !s->drop && (m = vfio_user_ep_pop_deferred(s->ep))) {
        srv_dispatch(s, m);
        vfio_user_cmdq_msg_free(m);
    }
}

/* Receive and handle one command. 0, -EAGAIN (none waiting), or
 * -ECONNRESET (client gone or dropped). */
static int srv_serve_one(struct vfio_srv *s)
{
    struct vfio_user_msg *m = &s->rx;
    const char *why = NULL;
    int r;

    m->payload = s->buf;
    m->payload_cap = s->buf_size;
    r = vfio_user_ep_recv_command(s->ep, true, m, &why);
    if (r == -EAGAIN)
        return r;
    if (r && (vfio_user_conn_failed(s->conn) || vfio_user_ep_failed(s->ep))) {
        srv_disconnect(s, r == -ECONNRESET ? NULL : why);
        return -ECONNRESET;
    }
    if (r)
        srv_reject(s, m, r);
    else
        srv_dispatch(s, m);
    vfio_user_msg_close_fds(m);
    srv_run_deferred(s);
    if (s->drop || (s->conn && (vfio_user_conn_failed(s->conn) ||
                                vfio_user_ep_failed(s->ep)))) {
        srv_disconnect(s, "protocol failure");
        return -ECONNRESET;
    }
    return 0;
}

static void srv_ioev_ready(struct vfio_srv *s, uint32_t idx)
{
    uint64_t v;

    if (idx >= s->nioev)
        return;
    if (read(s->ioev[idx].fd, &v, sizeof(v)) != sizeof(v))
        return;
    s->stats.ioeventfds++;
    if (s->dev.ops->ioeventfd)
        s->dev.ops->ioeventfd(s->dev.opaque, s->ioev[idx].region,
                              s->ioev[idx].cookie);
    srv_run_deferred(s);
}

uint32_t vfio_srv_take_ioeventfds(struct vfio_srv *s, int *fds,
                                  uint32_t max)
{
    uint32_t i;

    for (i = 0; i < s->nioev && i < max; i++) {
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->ioev[i].fd, NULL);
        fds[i] = s->ioev[i].fd;
    }
    return i;
}

void vfio_srv_handle_ioeventfd(struct vfio_srv *s, uint32_t idx)
{
    srv_ioev_ready(s, idx);
}

int vfio_srv_handle_ready(struct vfio_srv *s)
{
    struct epoll_event ev[16];
    int n, i, k, r;

    n = epoll_wait(s->epfd, ev, 16, 0);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (i = 0; i < n; i++) {
        uint64_t kind = ev[i].data.u64 >> 32;

        if (kind == TAG_LISTEN && !s->conn) {
            r = srv_accept(s);
            if (r)
                return r;
        } else if (kind == TAG_MAIN && s->conn) {
            for (k = 0; k < SERVE_BATCH && s->conn; k++)
                if (srv_serve_one(s))
                    break;
        } else if (kind == TAG_IOEV) {
            srv_ioev_ready(s, (uint32_t)ev[i].data.u64);
        }
    }
    return s->gone ? -ENOTCONN : 0;
}

/* ---- creation ---------------------------------------------------------- */

static int srv_check_dev(const struct vfio_srv_dev *d)
{
    uint32_t i, j;

    if (!d->ops || !d->ops->region_access ||
        d->num_regions > VFIO_SRV_MAX_REGIONS ||
        d->num_irqs > VFIO_PCI_NUM_IRQS)
        return -EINVAL;
    if (d->mig_flags && (vfio_user_mig_flags_check(d->mig_flags) ||
                         !d->ops->mig_arc || !d->ops->mig_save ||
                         !d->ops->mig_load))
        return -EINVAL;
    for (i = 0; i < d->num_irqs; i++)
        if (d->irq_count[i] > VFIO_SRV_MAX_IRQ_COUNT)
            return -EINVAL;
    for (i = 0; i < d->num_regions; i++) {
        const struct vfio_srv_region *rg = &d->regions[i];

        if (rg->nr_sparse > VFIO_SRV_MAX_SPARSE ||
            rg->nr_ioeventfds > VFIO_SRV_MAX_IOEVENTFDS ||
            ((rg->flags & VFIO_REGION_INFO_FLAG_MMAP) && rg->mmap_fd < 0))
            return -EINVAL;
        for (j = 0; j < rg->nr_ioeventfds; j++)
            if (rg->ioeventfds[j].offset >= rg->size)
                return -EINVAL;
    }
    return 0;
}

static int srv_add_fd(struct vfio_srv *s, int fd, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

    return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int srv_ioev_init(struct vfio_srv *s)
{
    uint32_t i, j, n = 0;

    for (i = 0; i < s->dev.num_regions; i++)
        n += s->regions[i].nr_ioeventfds;
    s->ioev = calloc(n ? n : 1, sizeof(*s->ioev));
    if (!s->ioev)
        return -ENOMEM;
    for (i = 0; i < s->dev.num_regions; i++) {
        for (j = 0; j < s->regions[i].nr_ioeventfds; j++) {
            struct srv_ioev *e = &s->ioev[s->nioev];

            e->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (e->fd < 0)
                return -errno;
            e->region = i;
            e->desc = &s->regions[i].ioeventfds[j];
            e->cookie = e->desc->cookie;
            s->nioev++;
            if (srv_add_fd(s, e->fd, TAG(TAG_IOEV, s->nioev - 1)))
                return -errno;
        }
    }
    return 0;
}

void vfio_srv_default_caps(struct vfio_user_caps *c)
{
    vfio_user_caps_default(c);
    c->max_msg_fds = 16;
    c->twin_socket = true;
    c->write_multiple = true;
}

int vfio_srv_create(const struct vfio_srv_dev *dev,
                    const struct vfio_user_caps *own, int listen_fd,
                    struct vfio_srv **out)
{
    struct vfio_srv *s;
    int r;

    r = srv_check_dev(dev);
    if (r)
        return r;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->dev = *dev;
    memcpy(s->regions, dev->regions, dev->num_regions * sizeof(*s->regions));
    s->dev.regions = s->regions;
    if (own)
        s->own = *own;
    else
        vfio_srv_default_caps(&s->own);
    s->listen_fd = -1;
    s->timeout_ms = VFIO_SRV_DEFAULT_TIMEOUT_MS;
    s->mig_state = VFIO_DEVICE_STATE_RUNNING;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        r = -errno;
        free(s);
        return r;
    }
    r = srv_buffers(s, VFIO_USER_CONN_MSG_FLOOR + 64);
    if (!r && dev->mig_v1)
        r = srv_mig_v1_init(s);
    if (!r)
        r = srv_irqs_init(s);
    if (!r)
        r = srv_ioev_init(s);
    if (!r && listen_fd >= 0)
        r = srv_add_fd(s, listen_fd, TAG(TAG_LISTEN, 0));
    if (r) {
        vfio_srv_destroy(s);
        return r;
    }
    s->listen_fd = listen_fd;
    *out = s;
    return 0;
}

void vfio_srv_set_timeout(struct vfio_srv *s, uint32_t ms)
{
    s->timeout_ms = ms;
}

void vfio_srv_destroy(struct vfio_srv *s)
{
    uint32_t i;

    if (!s)
        return;
    s->closing = true;
    srv_disconnect(s, NULL);
    srv_irqs_free(s);
    for (i = 0; i < s->nioev; i++)
        close(s->ioev[i].fd);
    free(s->ioev);
    srv_mig_free(s);
    srv_mig_v1_free(s);
    free(s->dma);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    close(s->epfd);
    free(s->buf);
    free(s->obuf);
    free(s->dbuf);
    free(s);
}

int vfio_srv_poll_fd(const struct vfio_srv *s)
{
    return s->epfd;
}

bool vfio_srv_connected(const struct vfio_srv *s)
{
    return s->conn && s->state == SRV_READY;
}

uint32_t vfio_srv_mig_state(const struct vfio_srv *s)
{
    return s->mig_state;
}

void vfio_srv_get_stats(const struct vfio_srv *s, struct vfio_srv_stats *st)
{
    *st = s->stats;
    srv_count_msgs(s, st);
}
