/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-evil: a deliberately misbehaving vfio-user server for minivmm's
 * client tests. It serves a tiny PCI device (1234:11e5, class ff0000, one
 * 4 KiB BAR 0 whose dwords read 0x12345678) correctly, until the fault of
 * --mode strikes: at discovery (sparse-oob, iofd-oob, irq-count, caps,
 * dma-pgsize: valid capabilities offering only 2 MiB DMA pages) or
 * on the --after'th BAR 0 read (short, oversized, wrong-id, fds,
 * fd-flood, error, stall, disconnect, garbage, unsolicited). The hang
 * modes stop half-way instead: version-partial sends 8 bytes of its
 * VERSION reply and falls silent; partial does that with the BAR 0 read
 * reply; slow sends that reply one byte every 0.3 s; dma-flood answers the
 * read, then sends DMA_READ commands without ever reading the replies;
 * dma-write-partial answers the read, then sends 20 bytes of a DMA_WRITE
 * command and falls silent. Modes mig and
 * refuse-running add v2 migration (DEVICE_FEATURE MIGRATION with
 * STOP_COPY, MIG_DEVICE_STATE, a 16-byte MIG_DATA stream); refuse-running
 * then fails every transition back to RUNNING (EPERM), as a server that
 * cannot restart would, for the snapshot-resume failure test. The mig-v1-*
 * modes serve spec 0.9.1's migration v1 (a migration region at index 9,
 * DIRTY_PAGES) and lie there: mig-v1-window puts the data window inside
 * the registers, mig-v1-endless never ends a save (pending_bytes stays,
 * empty chunks), mig-v1-bitmap answers GET_BITMAP for another range
 * (spec: shared/spec/vfio-user-0.9.1.rst).
 *
 *   vfu-evil --socket-path=PATH --mode=MODE [--after=N]
 *
 * Built on vfio/conn (framing only) so it can break every rule the client
 * checks. One client, then exit. Spec: shared/spec/vfio-user.rst. */
#include "vmm/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vfio/proto/conn.h"

#define BAR_SIZE 4096u
#define NREGIONS 9u
#define MIG_REGION 9u
#define MIG_SIZE   0x2000u
#define MIG_DATA   0x1000u

struct evil {
    struct vfio_user_conn *c;
    const char *mode;
    unsigned int after;       /* BAR 0 reads before the fault */
    unsigned int bar_reads;
    uint8_t cfg[256];
    uint32_t mig_state;       /* enum vfio_device_mig_state */
    bool stream_sent;         /* this STOP_COPY's data was read */
    uint32_t v1_state;        /* mig-v1-*: v1 device_state */
    bool v1_sent;             /* the one v1 chunk was prepared */
};

#define EVIL_STREAM "vfu-evil state\n" /* 16 bytes with the NUL */

static bool mode_is(const struct evil *e, const char *m)
{
    return !strcmp(e->mode, m);
}

static bool v1(const struct evil *e)
{
    return !strncmp(e->mode, "mig-v1-", 7);
}

static int reply(struct evil *e, struct vfio_user_msg *m, const void *p,
                 size_t len, const int *fds, unsigned int nfds)
{
    return vfio_user_conn_send_reply(e->c, VFIO_USER_CHAN_MAIN, &m->hdr, p,
                                     len, fds, nfds);
}

/* Send the first @part bytes of the reply to @m (header + @len payload
 * bytes at @p), one byte every @gap_us if non-zero, then stay silent for
 * a minute. Returns 1 (stop serving). */
static int send_part(struct evil *e, struct vfio_user_msg *m, const void *p,
                     size_t len, size_t part, useconds_t gap_us)
{
    int fd = vfio_user_conn_fd(e->c, VFIO_USER_CHAN_MAIN);
    struct vfio_user_header h = {
        .msg_id = m->hdr.msg_id, .cmd = m->hdr.cmd,
        .msg_size = (uint32_t)(sizeof(h) + len),
        .flags = VFIO_USER_F_TYPE_REPLY,
    };
    uint8_t *b = malloc(sizeof(h) + len);

    memcpy(b, &h, sizeof(h));
    memcpy(b + sizeof(h), p, len);
    if (part > sizeof(h) + len)
        part = sizeof(h) + len;
    for (size_t i = 0; i < part; i += gap_us ? 1 : part) {
        if (write(fd, b + i, gap_us ? 1 : part) < 0)
            break;
        if (gap_us)
            usleep(gap_us);
    }
    free(b);
    log_info("vfu-evil: %zu bytes sent, now silent\n", part);
    sleep(60);
    return 1;
}

static int do_version(struct evil *e, struct vfio_user_msg *m)
{
    struct vfio_user_caps caps, eff;
    void *p;
    size_t len;
    int r;

    vfio_user_caps_default(&caps);
    if (mode_is(e, "caps"))
        caps.twin_socket = true, caps.twin_fd_index = 3; /* no such fd */
    if (mode_is(e, "dma-pgsize"))
        caps.pgsizes = 1ULL << 21; /* valid, but no 4 KiB DMA pages */
    caps.migration = v1(e);
    caps.mig_pgsize = 4096;
    if (vfio_user_version_encode(0, 1, &caps, &p, &len))
        return -ENOMEM;
    if (mode_is(e, "version-partial")) {
        send_part(e, m, p, len, 8, 0);
        free(p);
        return -EPIPE;
    }
    r = reply(e, m, p, len, NULL, 0);
    free(p);
    eff = caps;
    eff.max_msg_fds = 253; /* lets fd-flood send as many as SCM_RIGHTS can */
    vfio_user_conn_set_caps(e->c, &caps, &eff);
    return r;
}

static int do_region_info(struct evil *e, struct vfio_user_msg *m)
{
    uint8_t buf[32 + 32] = {0};
    struct vfio_region_info ri;
    struct vfio_region_info_cap_sparse_mmap sp = {
        .header = {VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0}, .nr_areas = 1,
    };
    struct vfio_region_sparse_mmap_area a = {0x2000, 0x1000}; /* beyond */
    int fd = -1, r;

    memcpy(&ri, m->payload, sizeof(ri));
    ri.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    ri.size = ri.index == 0 ? BAR_SIZE
              : ri.index == VFIO_PCI_CONFIG_REGION_INDEX ? 256 : 0;
    ri.argsz = 32;
    ri.cap_offset = 0;
    ri.offset = 0;
    if (ri.index == MIG_REGION && v1(e)) {
        struct vfio_region_info_cap_type t = {
            .header = {VFIO_REGION_INFO_CAP_TYPE, 1, 0},
            .type = VFIO_USER_REGION_TYPE_MIGRATION,
            .subtype = VFIO_USER_REGION_SUBTYPE_MIGRATION,
        };

        ri.size = MIG_SIZE;
        ri.flags |= VFIO_REGION_INFO_FLAG_CAPS;
        ri.cap_offset = 32;
        ri.argsz = 32 + sizeof(t);
        memcpy(buf + 32, &t, sizeof(t));
    }
    if (ri.index == 0 && mode_is(e, "sparse-oob")) {
        fd = memfd_create("evil-bar", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, BAR_SIZE) < 0)
            return -EIO;
        ri.flags |= VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
        ri.cap_offset = 32;
        ri.argsz = 32 + sizeof(sp) + sizeof(a);
        memcpy(buf + 32, &sp, sizeof(sp));
        memcpy(buf + 32 + sizeof(sp), &a, sizeof(a));
    }
    memcpy(buf, &ri, sizeof(ri));
    r = reply(e, m, buf, ri.argsz, &fd, fd >= 0 ? 1 : 0);
    if (fd >= 0)
        close(fd);
    return r;
}

static int do_io_fds(struct evil *e, struct vfio_user_msg *m)
{
    struct vfio_user_region_io_fds_request in;
    struct {
        struct vfio_user_region_io_fds_reply h;
        struct vfio_user_sub_region_ioeventfd s;
    } __attribute__((packed)) out = {0};
    int fd, r;

    memcpy(&in, m->payload, sizeof(in));
    out.h.index = in.index;
    out.h.argsz = sizeof(out.h);
    if (in.index != 0 || !mode_is(e, "iofd-oob"))
        return reply(e, m, &out, sizeof(out.h), NULL, 0);
    out.h.count = 1;
    out.h.argsz = sizeof(out);
    out.s = (struct vfio_user_sub_region_ioeventfd){
        .offset = 0x10000, .size = 4, .type = VFIO_USER_IO_FD_TYPE_IOEVENTFD,
    };
    fd = eventfd(0, EFD_CLOEXEC);
    r = reply(e, m, &out, sizeof(out), &fd, 1);
    close(fd);
    return r;
}

static int do_simple(struct evil *e, struct vfio_user_msg *m)
{
    struct vfio_user_device_info di = {16, VFIO_DEVICE_FLAGS_PCI |
                                               VFIO_DEVICE_FLAGS_RESET,
                                       NREGIONS, 5};
    struct vfio_irq_info ii;

    switch (m->hdr.cmd) {
    case VFIO_USER_DEVICE_GET_INFO:
        di.num_regions += v1(e) ? 1 : 0;
        return reply(e, m, &di, sizeof(di), NULL, 0);
    case VFIO_USER_DEVICE_GET_IRQ_INFO:
        memcpy(&ii, m->payload, sizeof(ii));
        ii.flags = VFIO_IRQ_INFO_EVENTFD;
        ii.count = mode_is(e, "irq-count") ? 1u << 30 : 0;
        return reply(e, m, &ii, sizeof(ii), NULL, 0);
    case VFIO_USER_DMA_UNMAP:
        return reply(e, m, m->payload, m->payload_len, NULL, 0);
    case VFIO_USER_DMA_MAP:
    case VFIO_USER_DEVICE_SET_IRQS:
    case VFIO_USER_DEVICE_RESET:
        return reply(e, m, NULL, 0, NULL, 0);
    default:
        return -ENOTSUP;
    }
}

static bool runtime_mode(const struct evil *e)
{
    static const char *const modes[] = {
        "short", "oversized", "wrong-id", "error", "disconnect", "stall",
        "garbage", "unsolicited", "fds", "fd-flood", "partial", "slow",
        "dma-flood", "dma-write-partial",
    };

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (mode_is(e, modes[i]))
            return true;
    return false;
}

/* dma-flood: DMA_READ commands (4 KiB at guest address 0) until the
 * socket refuses, never reading a reply. */
static void dma_flood(struct evil *e)
{
    struct vfio_user_dma_access a = {.address = 0, .count = 4096};
    unsigned int n = 0;

    while (vfio_user_conn_send_command(e->c, VFIO_USER_CHAN_MAIN,
                                       VFIO_USER_DMA_READ, 0, &a, sizeof(a),
                                       NULL, 0, NULL) == 0)
        n++;
    log_info("vfu-evil: %u DMA_READs sent\n", n);
}

/* dma-write-partial: 20 of a DMA_WRITE command's 40 bytes. */
static void dma_write_partial(struct evil *e)
{
    struct vfio_user_header h = {
        .msg_id = 7, .cmd = VFIO_USER_DMA_WRITE, .msg_size = 16 + 24,
        .flags = VFIO_USER_F_TYPE_COMMAND,
    };
    uint8_t b[20] = {0};

    memcpy(b, &h, sizeof(h));
    if (write(vfio_user_conn_fd(e->c, VFIO_USER_CHAN_MAIN), b, 20) < 0)
        return;
    log_info("vfu-evil: 20 bytes of DMA_WRITE sent, now silent\n");
    sleep(60);
}

/* The fault, on a BAR 0 read. Returns 1 to stop serving. */
static int strike(struct evil *e, struct vfio_user_msg *m, uint8_t *buf,
                  uint32_t n)
{
    int fds[253], nf = 0, r = 0;

    log_info("vfu-evil: %s on BAR 0 read %u\n", e->mode,
            e->bar_reads);
    if (mode_is(e, "short"))
        reply(e, m, buf, 16 + n / 2, NULL, 0);
    else if (mode_is(e, "oversized"))
        reply(e, m, buf, 16 + n + 100, NULL, 0);
    else if (mode_is(e, "wrong-id"))
        m->hdr.msg_id++, reply(e, m, buf, 16 + n, NULL, 0);
    else if (mode_is(e, "error"))
        vfio_user_conn_send_error(e->c, VFIO_USER_CHAN_MAIN, &m->hdr, EIO);
    else if (mode_is(e, "disconnect"))
        r = 1;
    else if (mode_is(e, "stall"))
        sleep(30), r = 1;
    else if (mode_is(e, "garbage"))
        r = write(vfio_user_conn_fd(e->c, VFIO_USER_CHAN_MAIN),
                  "\x01\x00\x09\x00\xff\xff\xff\x7f garbage!", 18) < 0, r = 1;
    else if (mode_is(e, "unsolicited"))
        m->hdr.msg_id += 100, reply(e, m, buf, 16 + n, NULL, 0);
    else if (mode_is(e, "partial"))
        r = send_part(e, m, buf, 16 + n, 8, 0);
    else if (mode_is(e, "slow"))
        r = send_part(e, m, buf, 16 + n, 16 + 16 + n, 300000);
    else if (mode_is(e, "dma-flood"))
        reply(e, m, buf, 16 + n, NULL, 0), dma_flood(e), r = 1;
    else if (mode_is(e, "dma-write-partial"))
        reply(e, m, buf, 16 + n, NULL, 0), dma_write_partial(e), r = 1;
    if (mode_is(e, "fds") || mode_is(e, "fd-flood")) {
        nf = mode_is(e, "fds") ? 1 : 253;
        for (int i = 0; i < nf; i++)
            fds[i] = eventfd(0, EFD_CLOEXEC);
        reply(e, m, buf, 16 + n, fds, (unsigned int)nf);
        while (nf)
            close(fds[--nf]);
    }
    return r;
}

/* A v1 register read at @off: the lies of the mig-v1-* modes. */
static uint64_t mig_reg(struct evil *e, uint64_t off)
{
    bool saving = e->v1_state & VFIO_USER_MIG_V1_STATE_SAVING;

    switch (off) {
    case 0:
        return e->v1_state;
    case 8:
        return mode_is(e, "mig-v1-endless") || (saving && !e->v1_sent)
                   ? 0x100 : 0;
    case 16:
        e->v1_sent = saving;
        return mode_is(e, "mig-v1-window") ? 8 : MIG_DATA;
    default:
        return mode_is(e, "mig-v1-endless") ? 0 : 0x100;
    }
}

static int do_mig_rw(struct evil *e, struct vfio_user_msg *m,
                     const struct vfio_user_region_access *a, bool wr)
{
    uint8_t buf[16 + 256] = {0};
    uint64_t v;

    if (a->count > 256 || a->offset + a->count > MIG_SIZE)
        return -EINVAL;
    memcpy(buf, a, sizeof(*a));
    if (wr) {
        if (a->offset == 0 && a->count == 4)
            memcpy(&e->v1_state, (uint8_t *)m->payload + 16, 4);
        if (a->offset == 0 && a->count == 4 &&
            (e->v1_state & VFIO_USER_MIG_V1_STATE_SAVING))
            e->v1_sent = false;
        return reply(e, m, a, sizeof(*a), NULL, 0);
    }
    if (a->offset < MIG_DATA) {
        v = mig_reg(e, a->offset);
        memcpy(buf + 16, &v, a->count <= 8 ? a->count : 8);
    }
    return reply(e, m, buf, 16 + a->count, NULL, 0);
}

/* DIRTY_PAGES: START/STOP accepted; GET_BITMAP for the range asked, or
 * (mig-v1-bitmap) for the next page's range. */
static int do_dirty(struct evil *e, struct vfio_user_msg *m)
{
    struct vfio_user_dirty_pages dp;
    struct vfio_user_bitmap_range rg;
    uint8_t out[8 + 32 + 8192] = {0};

    memcpy(&dp, m->payload, sizeof(dp));
    if (dp.flags != VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP)
        return reply(e, m, NULL, 0, NULL, 0);
    if (m->payload_len < 40)
        return -EINVAL;
    memcpy(&rg, (uint8_t *)m->payload + 8, sizeof(rg));
    if (rg.bitmap.size > 8192)
        return -E2BIG;
    rg.iova += mode_is(e, "mig-v1-bitmap") ? 4096 : 0;
    memcpy(out, &dp, 8);
    memcpy(out + 8, &rg, 32);
    return reply(e, m, out, 40 + rg.bitmap.size, NULL, 0);
}

static int do_rw(struct evil *e, struct vfio_user_msg *m, bool wr)
{
    struct vfio_user_region_access a;
    uint8_t buf[16 + 256];

    memcpy(&a, m->payload, sizeof(a));
    if (a.region == MIG_REGION && v1(e))
        return do_mig_rw(e, m, &a, wr);
    if (a.count > 256 || (a.region != 0 && a.region != 7) ||
        a.offset + a.count > (a.region ? 256u : BAR_SIZE))
        return -EINVAL;
    memcpy(buf, &a, sizeof(a));
    if (wr) {
        if (a.region == 7 && a.offset >= 4 && a.offset < 8)
            memcpy(e->cfg + a.offset, buf + 16, a.count);
        return (m->hdr.flags & VFIO_USER_F_NO_REPLY)
                   ? 0 : reply(e, m, &a, sizeof(a), NULL, 0);
    }
    for (uint32_t i = 0; i < a.count; i++) {
        uint64_t o = a.offset + i;

        buf[16 + i] = a.region ? e->cfg[o]
                               : (uint8_t)(0x12345678u >> (8 * (o % 4)));
    }
    if (a.region == 0 && ++e->bar_reads == e->after + 1 && runtime_mode(e))
        return strike(e, m, buf, a.count) ? -EPIPE : 0;
    return reply(e, m, buf, 16 + a.count, NULL, 0);
}

static bool mig_mode(const struct evil *e)
{
    return mode_is(e, "mig") || mode_is(e, "refuse-running");
}

/* DEVICE_FEATURE: MIGRATION (GET), MIG_DEVICE_STATE (GET, SET). */
static int do_feature(struct evil *e, struct vfio_user_msg *m)
{
    struct vfio_user_device_feature h;
    struct vfio_user_device_feature_mig_state st = {0, 0};
    uint8_t out[16];
    uint64_t mflags = VFIO_MIGRATION_STOP_COPY;
    uint32_t feat;

    if (!mig_mode(e) || m->payload_len < sizeof(h))
        return -ENOTSUP;
    memcpy(&h, m->payload, sizeof(h));
    feat = h.flags & VFIO_DEVICE_FEATURE_MASK;
    memcpy(out, &h, sizeof(h));
    if (feat == VFIO_DEVICE_FEATURE_MIGRATION &&
        (h.flags & VFIO_DEVICE_FEATURE_GET)) {
        memcpy(out + 8, &mflags, 8);
        return reply(e, m, out, 16, NULL, 0);
    }
    if (feat != VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE)
        return -ENOTSUP;
    if (h.flags & VFIO_DEVICE_FEATURE_SET) {
        if (m->payload_len < sizeof(h) + sizeof(st))
            return -EINVAL;
        memcpy(&st, (uint8_t *)m->payload + sizeof(h), sizeof(st));
        log_info("vfu-evil: migration state %u -> %u%s\n",
                e->mig_state, st.device_state,
                st.device_state == VFIO_DEVICE_STATE_RUNNING &&
                mode_is(e, "refuse-running") ? ": refused" : "");
        if (st.device_state == VFIO_DEVICE_STATE_RUNNING &&
            mode_is(e, "refuse-running"))
            return -EPERM;
        e->mig_state = st.device_state;
        e->stream_sent = false;
    }
    st.device_state = e->mig_state;
    memcpy(out + 8, &st, sizeof(st));
    return reply(e, m, out, 16, NULL, 0);
}

/* MIG_DATA_READ: the 16-byte stream in STOP_COPY, then nothing;
 * MIG_DATA_WRITE: accepted (RESUMING). */
static int do_mig_data(struct evil *e, struct vfio_user_msg *m, bool wr)
{
    struct vfio_user_mig_data d;
    uint8_t out[8 + 16];

    if (!mig_mode(e) || m->payload_len < sizeof(d))
        return -ENOTSUP;
    memcpy(&d, m->payload, sizeof(d));
    if (wr) /* spec: no reply payload */
        return reply(e, m, NULL, 0, NULL, 0);
    d.size = e->mig_state == VFIO_DEVICE_STATE_STOP_COPY && d.size >= 16 &&
             !e->stream_sent ? 16 : 0;
    d.argsz = (uint32_t)sizeof(d) + d.size;
    memcpy(out, &d, sizeof(d));
    memcpy(out + 8, EVIL_STREAM, 16);
    e->stream_sent = e->stream_sent || d.size;
    return reply(e, m, out, d.argsz, NULL, 0);
}

static int handle(struct evil *e, struct vfio_user_msg *m)
{
    switch (m->hdr.cmd) {
    case VFIO_USER_DEVICE_FEATURE:
        return do_feature(e, m);
    case VFIO_USER_MIG_DATA_READ:
        return do_mig_data(e, m, false);
    case VFIO_USER_MIG_DATA_WRITE:
        return do_mig_data(e, m, true);
    case VFIO_USER_VERSION:
        return do_version(e, m);
    case VFIO_USER_DEVICE_GET_REGION_INFO:
        return do_region_info(e, m);
    case VFIO_USER_DEVICE_GET_REGION_IO_FDS:
        return do_io_fds(e, m);
    case VFIO_USER_REGION_READ:
        return do_rw(e, m, false);
    case VFIO_USER_REGION_WRITE:
        return do_rw(e, m, true);
    case VFIO_USER_DIRTY_PAGES:
        return v1(e) ? do_dirty(e, m) : -ENOTSUP;
    default:
        return do_simple(e, m);
    }
}

static int serve(struct evil *e)
{
    struct vfio_user_msg *m = calloc(1, sizeof(*m));
    struct vfio_user_expect exp;
    int r = 0;

    m->payload_cap = 1u << 21;
    m->payload = malloc(m->payload_cap);
    while (r != -EPIPE) {
        vfio_user_conn_expect_command(e->c, &exp);
        r = vfio_user_conn_recv(e->c, VFIO_USER_CHAN_MAIN, &exp, false, m,
                                NULL);
        if (r == -ECONNRESET || r == -ENOTCONN)
            break;
        if (r)
            continue;
        r = handle(e, m);
        if (r < 0 && r != -EPIPE && !(m->hdr.flags & VFIO_USER_F_NO_REPLY))
            vfio_user_conn_send_error(e->c, VFIO_USER_CHAN_MAIN, &m->hdr, -r);
        vfio_user_msg_close_fds(m);
    }
    free(m->payload);
    free(m);
    return 0;
}

static int listen_accept(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c;

    if (s < 0 || strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    unlink(path);
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0)
        return -1;
    c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    close(s);
    unlink(path);
    return c;
}

int main(int argc, char **argv)
{
    struct evil e = {.mode = "none", .after = 2,
                     .mig_state = VFIO_DEVICE_STATE_RUNNING,
                     .v1_state = VFIO_USER_MIG_V1_STATE_RUNNING};
    const char *path = NULL;
    int fd;

    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--socket-path=", 14))
            path = argv[i] + 14;
        else if (!strncmp(argv[i], "--mode=", 7))
            e.mode = argv[i] + 7;
        else if (!strncmp(argv[i], "--after=", 8))
            e.after = (unsigned int)atoi(argv[i] + 8);
    }
    if (!path) {
        log_err("usage: vfu-evil --socket-path=PATH --mode=MODE "
                "[--after=N]\n");
        return 2;
    }
    e.cfg[0] = 0x34, e.cfg[1] = 0x12, e.cfg[2] = 0xe5, e.cfg[3] = 0x11;
    e.cfg[11] = 0xff;
    e.cfg[0x3d] = 1; /* INTA: the client asks for INTx IRQ info */
    fd = listen_accept(path);
    if (fd < 0 || vfio_user_conn_new(fd, &e.c)) {
        log_err("vfu-evil: %s", strerror(errno));
        return 1;
    }
    serve(&e);
    vfio_user_conn_free(e.c);
    return 0;
}
