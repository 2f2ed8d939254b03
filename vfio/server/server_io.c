/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: device/region/IRQ information, IRQ actions, region
 * access and reset. Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_INFO" through
 * "VFIO_USER_REGION_WRITE_MULTI". */
#include "vfio/server/server_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio/server/server_mig.h"
#include "vfio/server/server_mig_v1.h"

#include "vfio/proto/migration.h"

#define REGION_INFO_SIZE ((uint32_t)sizeof(struct vfio_region_info))
#define ACCESS_SIZE      ((uint32_t)sizeof(struct vfio_user_region_access))

int srv_cmd_device_info(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_device_info in, out = {0};

    memcpy(&in, m->payload, sizeof(in));
    if (in.argsz < sizeof(out))
        return -EINVAL;
    out.argsz = sizeof(out);
    out.flags = VFIO_DEVICE_FLAGS_PCI;
    if (s->dev.ops->reset)
        out.flags |= VFIO_DEVICE_FLAGS_RESET;
    out.num_regions = s->dev.num_regions;
    out.num_irqs = s->dev.num_irqs;
    return srv_reply(s, m, &out, sizeof(out), NULL, 0);
}

/* Capability chain of region @rg at @buf (room checked by the caller);
 * offsets are relative to the region info start. Returns its length. */
static uint32_t region_caps(const struct vfio_srv_region *rg, uint8_t *buf,
                            bool write)
{
    uint32_t len = 0, sp_len = 0, i;

    if (rg->sparse)
        sp_len = sizeof(struct vfio_region_info_cap_sparse_mmap) +
                 rg->nr_sparse * sizeof(struct vfio_region_sparse_mmap_area);
    if (rg->sparse && write) {
        struct vfio_region_info_cap_sparse_mmap sp = {0};
        struct vfio_region_sparse_mmap_area a;

        sp.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
        sp.header.version = 1;
        sp.header.next = rg->type ? REGION_INFO_SIZE + sp_len : 0;
        sp.nr_areas = rg->nr_sparse;
        memcpy(buf, &sp, sizeof(sp));
        for (i = 0; i < rg->nr_sparse; i++) {
            a.offset = rg->sparse[i].offset;
            a.size = rg->sparse[i].size;
            memcpy(buf + sizeof(sp) + i * sizeof(a), &a, sizeof(a));
        }
    }
    len += sp_len;
    if (rg->type && write) {
        struct vfio_region_info_cap_type t = {0};

        t.header.id = VFIO_REGION_INFO_CAP_TYPE;
        t.header.version = 1;
        t.type = rg->type;
        t.subtype = rg->subtype;
        memcpy(buf + len, &t, sizeof(t));
    }
    if (rg->type)
        len += sizeof(struct vfio_region_info_cap_type);
    return len;
}

/* Spec "VFIO_USER_DEVICE_GET_REGION_INFO": argsz too small for the
 * capabilities -> the fixed part with the needed argsz, no chain. */
int srv_cmd_region_info(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_region_info in, out = {0};
    const struct vfio_srv_region *rg;
    uint32_t caps_len, len = REGION_INFO_SIZE;
    bool mmap;

    memcpy(&in, m->payload, sizeof(in));
    if (in.index >= s->dev.num_regions || in.argsz < REGION_INFO_SIZE)
        return -EINVAL;
    rg = &s->regions[in.index];
    caps_len = region_caps(rg, NULL, false);
    mmap = (rg->flags & VFIO_REGION_INFO_FLAG_MMAP) && rg->size;
    out.argsz = REGION_INFO_SIZE + caps_len;
    out.flags = rg->size ? rg->flags & (VFIO_REGION_INFO_FLAG_READ |
                                        VFIO_REGION_INFO_FLAG_WRITE |
                                        VFIO_REGION_INFO_FLAG_MMAP)
                         : 0;
    out.index = in.index;
    out.size = rg->size;
    out.offset = rg->mmap_offset;
    if (caps_len && rg->size) {
        out.flags |= VFIO_REGION_INFO_FLAG_CAPS;
        if (in.argsz >= out.argsz) {
            out.cap_offset = REGION_INFO_SIZE;
            region_caps(rg, s->obuf + REGION_INFO_SIZE, true);
            len = out.argsz;
        }
    }
    memcpy(s->obuf, &out, sizeof(out));
    return srv_reply(s, m, s->obuf, len, &rg->mmap_fd, mmap ? 1 : 0);
}

/* Spec "VFIO_USER_DEVICE_GET_REGION_IO_FDS": one 40-byte ioeventfd entry
 * per offered doorbell, fd i for entry i; no more fds than the client
 * accepts per message (the rest stay reachable by REGION_WRITE). */
int srv_cmd_region_io_fds(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_region_io_fds_request in;
    struct vfio_user_region_io_fds_reply out = {0};
    struct vfio_user_sub_region_ioeventfd e;
    int fds[VFIO_SRV_MAX_IOEVENTFDS];
    uint32_t first = 0, n = 0, i;

    memcpy(&in, m->payload, sizeof(in));
    if (in.index >= s->dev.num_regions || in.flags || in.count ||
        in.argsz < sizeof(out))
        return -EINVAL;
    for (i = 0; i < s->nioev; i++) {
        if (s->ioev[i].region < in.index)
            first++;
        else if (s->ioev[i].region == in.index)
            n++;
    }
    if (n > s->eff.max_msg_fds)
        n = s->eff.max_msg_fds;
    out.argsz = sizeof(out) + n * sizeof(e);
    out.index = in.index;
    out.count = n;
    memcpy(s->obuf, &out, sizeof(out));
    if (in.argsz < out.argsz)
        return srv_reply(s, m, s->obuf, sizeof(out), NULL, 0);
    for (i = 0; i < n; i++) {
        const struct srv_ioev *v = &s->ioev[first + i];

        memset(&e, 0, sizeof(e));
        e.offset = v->desc->offset;
        e.size = v->desc->size;
        e.fd_index = i;
        e.type = VFIO_USER_IO_FD_TYPE_IOEVENTFD;
        e.flags = v->desc->flags;
        e.datamatch = v->desc->datamatch;
        memcpy(s->obuf + sizeof(out) + i * sizeof(e), &e, sizeof(e));
        fds[i] = v->fd;
    }
    return srv_reply(s, m, s->obuf, out.argsz, fds, n);
}

int srv_cmd_irq_info(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_irq_info in, out = {0};

    memcpy(&in, m->payload, sizeof(in));
    if (in.index >= s->dev.num_irqs || in.argsz < sizeof(out))
        return -EINVAL;
    out.argsz = sizeof(out);
    out.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE;
    out.index = in.index;
    out.count = s->irqs[in.index].count;
    return srv_reply(s, m, &out, sizeof(out), NULL, 0);
}

/* ---- IRQs --------------------------------------------------------------- */

static void signal_fd(int fd)
{
    uint64_t one = 1;

    if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
        /* counter saturated or fd gone: nothing more to do */
    }
}

static int irq_fire(struct vfio_srv *s, struct srv_irq *q, uint32_t vec)
{
    if (q->masked[vec]) {
        q->pending[vec] = 1;
        return 0;
    }
    if (q->trig[vec] < 0)
        return -ENOENT;
    q->pending[vec] = 0;
    signal_fd(q->trig[vec]);
    s->stats.irqs++;
    return 0;
}

int vfio_srv_irq_trigger(struct vfio_srv *s, uint32_t index, uint32_t vec)
{
    if (index >= s->dev.num_irqs || vec >= s->irqs[index].count)
        return -EINVAL;
    return irq_fire(s, &s->irqs[index], vec);
}

bool vfio_srv_irq_has_fd(const struct vfio_srv *s, uint32_t index,
                         uint32_t vec)
{
    return index < s->dev.num_irqs && vec < s->irqs[index].count &&
           s->irqs[index].trig[vec] >= 0;
}

/* One action on one vector with no fd data (DATA_NONE/DATA_BOOL). */
static void irq_action(struct vfio_srv *s, struct srv_irq *q, uint32_t vec,
                       uint32_t action)
{
    if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
        irq_fire(s, q, vec);
    } else if (action == VFIO_IRQ_SET_ACTION_MASK) {
        q->masked[vec] = 1;
        signal_fd(q->mask_fd[vec]);
    } else {
        q->masked[vec] = 0;
        signal_fd(q->unmask_fd[vec]);
        if (q->pending[vec])
            irq_fire(s, q, vec);
    }
}

static int *irq_slots(struct srv_irq *q, uint32_t action)
{
    if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
        return q->trig;
    return action == VFIO_IRQ_SET_ACTION_MASK ? q->mask_fd : q->unmask_fd;
}

/* Validate a SET_IRQS header against the message; see the spec's rules. */
static int set_irqs_check(const struct vfio_srv *s,
                          const struct vfio_irq_set *st,
                          const struct vfio_user_msg *m)
{
    uint32_t data = st->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    uint32_t action = st->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    uint32_t cnt;

    if (st->index >= s->dev.num_irqs ||
        (st->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
                       VFIO_IRQ_SET_ACTION_TYPE_MASK)) ||
        !data || (data & (data - 1)) || !action || (action & (action - 1)))
        return -EINVAL;
    cnt = s->irqs[st->index].count;
    if (st->start > cnt || st->count > cnt - st->start)
        return -EINVAL;
    if (data == VFIO_IRQ_SET_DATA_EVENTFD)
        return m->nfds == st->count || m->nfds == 0 ? 0 : -EINVAL;
    if (m->nfds)
        return -EINVAL;
    if (data == VFIO_IRQ_SET_DATA_BOOL &&
        m->payload_len - sizeof(*st) < st->count)
        return -EINVAL;
    return 0;
}

int srv_cmd_set_irqs(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_irq_set st;
    const uint8_t *bools = (const uint8_t *)m->payload + sizeof(st);
    uint32_t data, action, i;
    struct srv_irq *q;
    int *slot, r;

    memcpy(&st, m->payload, sizeof(st));
    r = set_irqs_check(s, &st, m);
    if (r)
        return r;
    q = &s->irqs[st.index];
    data = st.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    action = st.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    if (st.count == 0 && st.start == 0 && data == VFIO_IRQ_SET_DATA_NONE &&
        action == VFIO_IRQ_SET_ACTION_TRIGGER) {
        st.count = q->count; /* spec: disable every interrupt of @index */
        data = VFIO_IRQ_SET_DATA_EVENTFD;
    }
    slot = irq_slots(q, action);
    for (i = st.start; i < st.start + st.count; i++) {
        if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
            if (slot[i] >= 0)
                close(slot[i]);
            slot[i] = m->nfds ? m->fds[i - st.start] : -1;
            if (m->nfds)
                m->fds[i - st.start] = -1;
        } else if (data == VFIO_IRQ_SET_DATA_NONE || bools[i - st.start]) {
            irq_action(s, q, i, action);
        }
    }
    return srv_reply(s, m, NULL, 0, NULL, 0);
}

int srv_irqs_init(struct vfio_srv *s)
{
    uint32_t i, v;

    for (i = 0; i < s->dev.num_irqs; i++) {
        struct srv_irq *q = &s->irqs[i];
        size_t n = s->dev.irq_count[i] ? s->dev.irq_count[i] : 1;

        q->count = s->dev.irq_count[i];
        q->trig = malloc(n * sizeof(int));
        q->mask_fd = malloc(n * sizeof(int));
        q->unmask_fd = malloc(n * sizeof(int));
        q->masked = calloc(n, 1);
        q->pending = calloc(n, 1);
        if (!q->trig || !q->mask_fd || !q->unmask_fd || !q->masked ||
            !q->pending)
            return -ENOMEM;
        for (v = 0; v < n; v++)
            q->trig[v] = q->mask_fd[v] = q->unmask_fd[v] = -1;
    }
    return 0;
}

/* Client gone: close every fd it gave; masks and pending bits reset. */
void srv_irqs_close(struct vfio_srv *s)
{
    uint32_t i, v;

    for (i = 0; i < s->dev.num_irqs; i++) {
        struct srv_irq *q = &s->irqs[i];

        for (v = 0; v < q->count && q->trig; v++) {
            int *f[3] = {&q->trig[v], &q->mask_fd[v], &q->unmask_fd[v]};
            int k;

            for (k = 0; k < 3; k++) {
                if (*f[k] >= 0)
                    close(*f[k]);
                *f[k] = -1;
            }
            q->masked[v] = q->pending[v] = 0;
        }
    }
}

void srv_irqs_free(struct vfio_srv *s)
{
    uint32_t i;

    srv_irqs_close(s);
    for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
        free(s->irqs[i].trig);
        free(s->irqs[i].mask_fd);
        free(s->irqs[i].unmask_fd);
        free(s->irqs[i].masked);
        free(s->irqs[i].pending);
        memset(&s->irqs[i], 0, sizeof(s->irqs[i]));
    }
}

/* ---- region access ------------------------------------------------------ */

/* The device's region_access, or the core's migration v1 region. */
static int region_call(struct vfio_srv *s, uint32_t region, uint64_t off,
                       void *buf, uint32_t len, bool write)
{
    if (srv_mig_v1_region(s, region))
        return srv_mig_v1_access(s, off, buf, len, write);
    return s->dev.ops->region_access(s->dev.opaque, region, off, buf, len,
                                     write);
}

static int region_check(const struct vfio_srv *s, uint32_t region,
                        uint64_t off, uint32_t count, bool write)
{
    const struct vfio_srv_region *rg;
    uint32_t need = write ? VFIO_REGION_INFO_FLAG_WRITE
                          : VFIO_REGION_INFO_FLAG_READ;

    if (region >= s->dev.num_regions || !count)
        return -EINVAL;
    rg = &s->regions[region];
    if (!(rg->flags & need))
        return -EPERM;
    if (off > rg->size || count > rg->size - off)
        return -EINVAL;
    return 0;
}

int srv_cmd_region_read(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_region_access a;
    int r;

    memcpy(&a, m->payload, sizeof(a));
    if (m->payload_len != ACCESS_SIZE || a.count > s->eff.max_data_xfer_size ||
        a.count > s->buf_size - ACCESS_SIZE)
        return -EINVAL;
    r = region_check(s, a.region, a.offset, a.count, false);
    if (r)
        return r;
    r = region_call(s, a.region, a.offset,
                                  s->obuf + ACCESS_SIZE, a.count, false);
    if (r)
        return r;
    memcpy(s->obuf, &a, sizeof(a));
    return srv_reply(s, m, s->obuf, ACCESS_SIZE + a.count, NULL, 0);
}

int srv_cmd_region_write(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_region_access a;
    int r;

    memcpy(&a, m->payload, sizeof(a));
    if (m->payload_len - ACCESS_SIZE != a.count)
        return -EINVAL;
    r = region_check(s, a.region, a.offset, a.count, true);
    if (r)
        return r;
    r = region_call(s, a.region, a.offset,
                                  (uint8_t *)m->payload + ACCESS_SIZE,
                                  a.count, true);
    if (r)
        return r;
    return srv_reply(s, m, &a, sizeof(a), NULL, 0);
}

/* Spec "VFIO_USER_REGION_WRITE_MULTI": writes in order; the reply counts
 * those completed (a failing one ends the batch). */
int srv_cmd_write_multi(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_write_multi hdr;
    struct vfio_user_write_multi_entry e;
    const uint8_t *p = (const uint8_t *)m->payload + sizeof(hdr);
    uint64_t i, max = (m->payload_len - sizeof(hdr)) / sizeof(e);

    if (!s->eff.write_multiple)
        return -ENOTSUP;
    memcpy(&hdr, m->payload, sizeof(hdr));
    if (hdr.wr_cnt == 0 || hdr.wr_cnt > max ||
        m->payload_len != sizeof(hdr) + hdr.wr_cnt * sizeof(e))
        return -EINVAL;
    for (i = 0; i < hdr.wr_cnt; i++) {
        memcpy(&e, p + i * sizeof(e), sizeof(e));
        if (e.count > VFIO_USER_WRITE_MULTI_DATA_MAX ||
            region_check(s, e.region, e.offset, e.count, true) ||
            region_call(s, e.region, e.offset,
                                      e.data, e.count, true))
            break;
    }
    if (i == 0)
        return -EINVAL;
    hdr.wr_cnt = i;
    return srv_reply(s, m, &hdr, sizeof(hdr), NULL, 0);
}

/* VFIO_USER_DEVICE_RESET: the device resets; a migration session ends and
 * the state is RUNNING again (the way out of ERROR). DMA maps and IRQ fds
 * stay. */
int srv_cmd_reset(struct vfio_srv *s, struct vfio_user_msg *m)
{
    int r;

    if (!s->dev.ops->reset)
        return -ENOTSUP;
    r = s->dev.ops->reset(s->dev.opaque);
    if (r)
        return r;
    if (s->dev.mig_flags && s->mig_state != VFIO_DEVICE_STATE_RUNNING) {
        srv_mig_free(s);
        s->mig_state = VFIO_DEVICE_STATE_RUNNING;
    }
    return srv_reply(s, m, NULL, 0, NULL, 0);
}
