/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/server*.c: every command handler over a socketpair,
 * with a fake device. The client side is vfio/conn; each call sends one
 * command, runs the server once and reads the reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vfio/proto/conn.h"
#include "vfio/server/server.h"
#include "test_vfio_server_fx.h"

#define IOVA 0x100000ull

struct fx {
    struct srv_client k;
    uint8_t regmem[4096];
    int bar_fd;
    int resets, unmaps, arcs, loads;
    size_t loaded;
};

/* ---- fake device ---------------------------------------------------------- */

static int f_access(void *o, uint32_t region, uint64_t off, void *buf,
                    uint32_t len, bool write)
{
    struct fx *f = o;

    if (region != 1)
        return -EIO;
    if (write)
        memcpy(f->regmem + off, buf, len);
    else
        memcpy(buf, f->regmem + off, len);
    return 0;
}

static int f_reset(void *o)
{
    ((struct fx *)o)->resets++;
    return 0;
}

static void f_unmap(void *o, uint64_t iova, uint64_t size)
{
    (void)iova;
    (void)size;
    ((struct fx *)o)->unmaps++;
}

static int f_arc(void *o, uint32_t from, uint32_t to)
{
    (void)from;
    (void)to;
    ((struct fx *)o)->arcs++;
    return 0;
}

static int f_save(void *o, void **buf, size_t *len)
{
    (void)o;
    *buf = malloc(5000);
    memset(*buf, 0x5a, 5000);
    *len = 5000;
    return 0;
}

static int f_precopy(void *o, void **buf, size_t *len)
{
    (void)o;
    *buf = malloc(300);
    memset(*buf, 0x11, 300);
    *len = 300;
    return 0;
}

static int f_load(void *o, const void *buf, size_t len)
{
    struct fx *f = o;

    f->loads++;
    f->loaded = len;
    return len == 5000 && ((const uint8_t *)buf)[4999] == 0x5a ? 0 : -EINVAL;
}

static const struct vfio_srv_dev_ops f_ops = {
    .region_access = f_access, .reset = f_reset, .dma_unmap = f_unmap,
    .mig_arc = f_arc, .mig_save = f_save, .mig_load = f_load,
    .mig_precopy = f_precopy,
};

static const struct vfio_srv_sparse sparse[1] = {{4096, 4096}};
static const struct vfio_srv_ioeventfd ioev[2] = {
    {.offset = 0x100, .cookie = 0}, {.offset = 0x104, .cookie = 1}};

/* ---- harness ---------------------------------------------------------------- */

static int setup_dev(void **state, bool strict)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct vfio_srv_region rg[8] = {0};
    struct vfio_srv_dev d = {0};

    f->bar_fd = memfd_create("bar", 0);
    assert_int_equal(ftruncate(f->bar_fd, 8192), 0);
    rg[0] = (struct vfio_srv_region){.size = 8192, .flags = 7,
                                     .mmap_fd = f->bar_fd, .sparse = sparse,
                                     .nr_sparse = 1, .type = 3, .subtype = 1};
    rg[1] = (struct vfio_srv_region){.size = 4096, .flags = 3, .mmap_fd = -1,
                                     .ioeventfds = ioev, .nr_ioeventfds = 2};
    rg[2] = (struct vfio_srv_region){.size = 64, .flags = 1, .mmap_fd = -1};
    d.regions = rg;
    d.num_regions = 8;
    d.num_irqs = 5;
    d.irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
    d.irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 4;
    d.mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
    d.ops = &f_ops;
    d.opaque = f;
    d.strict = strict;
    assert_int_equal(vfio_srv_create(&d, NULL, -1, &f->k.srv), 0);
    srv_client_attach(&f->k);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_dev(state, false);
}

static int setup_strict(void **state)
{
    return setup_dev(state, true);
}

static int teardown(void **state)
{
    struct fx *f = *state;

    srv_client_free(&f->k);
    close(f->bar_fd);
    free(f);
    return 0;
}

/* Send @cmd, let the server run, read the reply into f->k.rep/f->k.buf. */
static int call(struct fx *f, uint16_t cmd, const void *pl, size_t len,
                const int *fds, unsigned int nfds)
{
    return srv_client_call(&f->k, cmd, pl, len, fds, nfds);
}

static void version(struct fx *f)
{
    struct vfio_user_caps caps;
    size_t len;
    void *pl;

    vfio_user_caps_default(&caps);
    caps.max_msg_fds = 8;
    caps.write_multiple = true;
    assert_int_equal(vfio_user_version_encode(0, 1, &caps, &pl, &len), 0);
    assert_int_equal(call(f, VFIO_USER_VERSION, pl, len, NULL, 0), 0);
    free(pl);
    vfio_user_conn_set_caps(f->k.c, &caps, &caps);
    assert_true(vfio_srv_connected(f->k.srv));
}

/* ---- tests ------------------------------------------------------------------- */

static void test_version_first(void **state)
{
    struct fx *f = *state;
    struct vfio_user_device_info di = {.argsz = 16};

    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL, 0),
                     -EINVAL);
    version(f);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL, 0), 0);
    memcpy(&di, f->k.buf, 16);
    assert_int_equal(di.num_regions, 8);
    assert_int_equal(di.num_irqs, 5);
    assert_true(di.flags & VFIO_DEVICE_FLAGS_RESET);
    assert_int_equal(call(f, VFIO_USER_VERSION, "\0\0\1\0", 4, NULL, 0),
                     -EINVAL);
}

static void test_version_bad_json(void **state)
{
    struct fx *f = *state;
    static const char pl[] = "\0\0\1\0{\"capabilities\":{";
    int r;

    assert_int_equal(call(f, VFIO_USER_VERSION, pl, sizeof(pl), NULL, 0),
                     -EINVAL);
    assert_false(vfio_srv_connected(f->k.srv));
    r = call(f, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0);
    assert_true(r == -EPIPE || r == -ECONNRESET); /* the server dropped us */
}

static void test_region_info(void **state)
{
    struct fx *f = *state;
    struct vfio_region_info ri = {.argsz = 32, .index = 0};
    struct vfio_region_info_cap_sparse_mmap sp;
    struct vfio_region_info_cap_type ty;

    version(f);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL,
                          0), 0);
    memcpy(&ri, f->k.buf, 32);
    assert_int_equal(ri.argsz, 32 + 32 + 16);
    assert_int_equal(ri.cap_offset, 0);
    assert_true(ri.flags & VFIO_REGION_INFO_FLAG_CAPS);
    assert_int_equal(f->k.rep.nfds, 1);
    ri.argsz = 200;
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL,
                          0), 0);
    assert_int_equal(f->k.rep.payload_len, 80);
    memcpy(&ri, f->k.buf, 32);
    assert_int_equal(ri.cap_offset, 32);
    memcpy(&sp, f->k.buf + 32, sizeof(sp));
    assert_int_equal(sp.header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
    assert_int_equal(sp.nr_areas, 1);
    assert_int_equal(sp.header.next, 64);
    memcpy(&ty, f->k.buf + 64, sizeof(ty));
    assert_int_equal(ty.header.id, VFIO_REGION_INFO_CAP_TYPE);
    assert_int_equal(ty.type, 3);
    ri.index = 8;
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 32, NULL,
                          0), -EINVAL);
}

static void test_io_fds(void **state)
{
    struct fx *f = *state;
    struct vfio_user_region_io_fds_request rq = {.argsz = 16, .index = 1};
    struct vfio_user_region_io_fds_reply rp;
    struct vfio_user_sub_region_ioeventfd e;
    uint64_t one = 1;

    version(f);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &rq, 16,
                          NULL, 0), 0);
    memcpy(&rp, f->k.buf, 16);
    assert_int_equal(rp.argsz, 16 + 2 * 40);
    assert_int_equal(f->k.rep.nfds, 0);
    rq.argsz = 200;
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &rq, 16,
                          NULL, 0), 0);
    assert_int_equal(f->k.rep.payload_len, 96);
    assert_int_equal(f->k.rep.nfds, 2);
    memcpy(&e, f->k.buf + 16 + 40, 40);
    assert_int_equal(e.offset, 0x104);
    assert_int_equal(e.fd_index, 1);
    assert_int_equal(write(f->k.rep.fds[1], &one, 8), 8);
    assert_int_equal(vfio_srv_handle_ready(f->k.srv), 0);
    rq.flags = 1;
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &rq, 16,
                          NULL, 0), -EINVAL);
}

static bool readable(int fd);

/* The owner polls the ioeventfds itself: once taken, a doorbell no longer
 * wakes vfio_srv_poll_fd(); vfio_srv_handle_ioeventfd() consumes and
 * delivers it. */
static void test_take_ioeventfds(void **state)
{
    struct fx *f = *state;
    struct pollfd p = {.fd = vfio_srv_poll_fd(f->k.srv), .events = POLLIN};
    struct vfio_srv_stats st;
    uint64_t one = 1;
    int fds[4];

    version(f);
    assert_int_equal(vfio_srv_take_ioeventfds(f->k.srv, fds, 4), 2);
    assert_int_equal(write(fds[1], &one, 8), 8);
    assert_int_equal(poll(&p, 1, 0), 0);
    vfio_srv_handle_ioeventfd(f->k.srv, 1);
    vfio_srv_get_stats(f->k.srv, &st);
    assert_int_equal(st.ioeventfds, 1);
    assert_false(readable(fds[1]));
    vfio_srv_handle_ioeventfd(f->k.srv, 7);     /* out of range: ignored */
    vfio_srv_get_stats(f->k.srv, &st);
    assert_int_equal(st.ioeventfds, 1);
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t v;

    if (poll(&p, 1, 0) != 1)
        return false;
    return read(fd, &v, 8) == 8;
}

static void set_irqs(struct fx *f, uint32_t flags, uint32_t start,
                     uint32_t count, const void *data, size_t dlen,
                     const int *fds, int expect)
{
    uint8_t pl[64];
    struct vfio_irq_set s = {.argsz = (uint32_t)(20 + dlen), .flags = flags,
                             .index = VFIO_PCI_MSIX_IRQ_INDEX,
                             .start = start, .count = count};

    memcpy(pl, &s, 20);
    if (dlen)
        memcpy(pl + 20, data, dlen);
    assert_int_equal(call(f, VFIO_USER_DEVICE_SET_IRQS, pl, 20 + dlen, fds,
                          fds ? count : 0), expect);
}

static void test_set_irqs(void **state)
{
    struct fx *f = *state;
    int efd[2] = {eventfd(0, 0), eventfd(0, 0)};
    const uint32_t TRIG = VFIO_IRQ_SET_ACTION_TRIGGER;
    uint8_t bools[2] = {0, 1};

    version(f);
    set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD | TRIG, 1, 2, NULL, 0, efd, 0);
    assert_int_equal(vfio_srv_irq_trigger(f->k.srv, VFIO_PCI_MSIX_IRQ_INDEX, 1),
                     0);
    assert_true(readable(efd[0]));
    assert_int_equal(vfio_srv_irq_trigger(f->k.srv, VFIO_PCI_MSIX_IRQ_INDEX, 0),
                     -ENOENT);
    set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 2, 1,
             NULL, 0, NULL, 0);
    vfio_srv_irq_trigger(f->k.srv, VFIO_PCI_MSIX_IRQ_INDEX, 2);
    assert_false(readable(efd[1]));      /* masked: pending */
    set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 2, 1,
             NULL, 0, NULL, 0);
    assert_true(readable(efd[1]));       /* fires on unmask */
    set_irqs(f, VFIO_IRQ_SET_DATA_BOOL | TRIG, 1, 2, bools, 2, NULL, 0);
    assert_false(readable(efd[0]));
    assert_true(readable(efd[1]));
    set_irqs(f, VFIO_IRQ_SET_DATA_NONE | TRIG, 3, 2, NULL, 0, NULL, -EINVAL);
    set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | TRIG, 0, 1,
             NULL, 0, NULL, -EINVAL);
    set_irqs(f, VFIO_IRQ_SET_DATA_BOOL | TRIG, 0, 4, bools, 2, NULL,
             -EINVAL);
    set_irqs(f, VFIO_IRQ_SET_DATA_NONE | TRIG, 2, 0, NULL, 0, NULL, 0);
    assert_true(vfio_srv_irq_has_fd(f->k.srv, VFIO_PCI_MSIX_IRQ_INDEX, 1));
    set_irqs(f, VFIO_IRQ_SET_DATA_NONE | TRIG, 0, 0, NULL, 0, NULL, 0);
    assert_false(vfio_srv_irq_has_fd(f->k.srv, VFIO_PCI_MSIX_IRQ_INDEX, 1));
    close(efd[0]);
    close(efd[1]);
}

static void test_region_rw(void **state)
{
    struct fx *f = *state;
    uint8_t pl[16 + 4];
    struct vfio_user_region_access a = {.offset = 8, .region = 1,
                                        .count = 4};
    uint8_t wm[8 + 2 * 24] = {0};
    struct vfio_user_write_multi_entry e = {.offset = 100, .region = 1,
                                            .count = 2, .data = {7, 8}};

    version(f);
    memcpy(pl, &a, 16);
    memcpy(pl + 16, "abcd", 4);
    assert_int_equal(call(f, VFIO_USER_REGION_WRITE, pl, 20, NULL, 0), 0);
    assert_int_equal(call(f, VFIO_USER_REGION_READ, &a, 16, NULL, 0), 0);
    assert_memory_equal(f->k.buf + 16, "abcd", 4);
    a.offset = 4094;
    assert_int_equal(call(f, VFIO_USER_REGION_READ, &a, 16, NULL, 0),
                     -EINVAL);
    a.offset = 0;
    a.region = 2; /* read-only */
    memcpy(pl, &a, 16);
    assert_int_equal(call(f, VFIO_USER_REGION_WRITE, pl, 20, NULL, 0),
                     -EPERM);
    assert_int_equal(call(f, VFIO_USER_REGION_WRITE, pl, 19, NULL, 0),
                     -EINVAL);
    wm[0] = 2;
    memcpy(wm + 8, &e, 24);
    e.offset = 5000; /* second write fails: one completed */
    memcpy(wm + 32, &e, 24);
    assert_int_equal(call(f, VFIO_USER_REGION_WRITE_MULTI, wm, sizeof(wm),
                          NULL, 0), 0);
    assert_int_equal(f->k.buf[0], 1);
    assert_int_equal(f->regmem[101], 8);
    assert_int_equal(call(f, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0), 0);
    assert_int_equal(f->resets, 1);
}

static void test_dma_and_logging(void **state)
{
    struct fx *f = *state;
    int mfd = memfd_create("g", 0);
    struct vfio_user_dma_map m = {.argsz = 32, .flags = 3, .address = IOVA,
                                  .size = 65536};
    struct vfio_user_dma_unmap u = {.argsz = 24, .address = IOVA,
                                    .size = 65536};
    uint8_t ctl[8 + 16] = {0}, rep[8 + 24] = {0}, *p;
    struct vfio_user_dma_logging_report rq = {IOVA, 65536, 4096};
    uint64_t bm;

    assert_int_equal(ftruncate(mfd, 65536), 0);
    version(f);
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, &mfd, 1), 0);
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, NULL, 0), -EEXIST);
    m.address = 2 * IOVA; /* past the end of the file: would SIGBUS */
    m.offset = 4096;
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, &mfd, 1), -EINVAL);
    m.address = IOVA;
    m.offset = 0;
    assert_non_null(vfio_srv_dma_translate(f->k.srv, IOVA + 100, 100, false));
    assert_null(vfio_srv_dma_translate(f->k.srv, IOVA + 65000, 1000, false));
    ((struct vfio_user_device_feature *)ctl)->argsz = 24;
    ((struct vfio_user_device_feature *)ctl)->flags =
        VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
    assert_int_equal(call(f, VFIO_USER_DEVICE_FEATURE, ctl, 24, NULL, 0), 0);
    p = vfio_srv_dma_translate(f->k.srv, IOVA + 3 * 4096 + 10, 8, true);
    assert_non_null(p);
    assert_int_equal(vfio_srv_dma_write(f->k.srv, IOVA + 5 * 4096, "x", 1), 0);
    ((struct vfio_user_device_feature *)rep)->argsz = 8 + 24 + 8;
    ((struct vfio_user_device_feature *)rep)->flags =
        VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
    memcpy(rep + 8, &rq, 24);
    assert_int_equal(call(f, VFIO_USER_DEVICE_FEATURE, rep, 32, NULL, 0), 0);
    assert_int_equal(f->k.rep.payload_len, 40);
    memcpy(&bm, f->k.buf + 32, 8);
    assert_int_equal(bm, (1u << 3) | (1u << 5));
    assert_int_equal(call(f, VFIO_USER_DEVICE_FEATURE, rep, 32, NULL, 0), 0);
    memcpy(&bm, f->k.buf + 32, 8);
    assert_int_equal(bm, 0); /* read and clear */
    u.size = 4096;
    assert_int_equal(call(f, VFIO_USER_DMA_UNMAP, &u, 24, NULL, 0), -ENOENT);
    u.size = 65536;
    assert_int_equal(call(f, VFIO_USER_DMA_UNMAP, &u, 24, NULL, 0), 0);
    assert_int_equal(f->unmaps, 1);
    assert_null(vfio_srv_dma_translate(f->k.srv, IOVA, 1, false));
    close(mfd);
}

/* The client side of message-based DMA: answer one DMA_WRITE with a
 * reply of @reply_len bytes (0: a bare header, as QEMU's client sends). */
struct dma_peer {
    struct fx *f;
    uint32_t reply_len;
    uint64_t addr;      /* seen in the request */
    uint8_t data[8];
};

static void *dma_peer_main(void *arg)
{
    struct dma_peer *p = arg;
    struct vfio_user_expect exp;
    struct vfio_user_msg m = {.payload = p->f->k.buf,
                              .payload_cap = sizeof(p->f->k.buf)};
    uint8_t rep[16] = {0};
    struct pollfd pfd = {
        .fd = vfio_user_conn_fd(p->f->k.c, VFIO_USER_CHAN_MAIN),
        .events = POLLIN};

    if (poll(&pfd, 1, 2000) != 1) /* no request: the server gave up */
        return NULL;
    vfio_user_conn_expect_command(p->f->k.c, &exp);
    if (vfio_user_conn_recv(p->f->k.c, VFIO_USER_CHAN_MAIN, &exp, true, &m,
                            NULL) ||
        m.hdr.cmd != VFIO_USER_DMA_WRITE || m.payload_len < 16 + 8)
        return NULL;
    memcpy(&p->addr, m.payload, 8);
    memcpy(p->data, (uint8_t *)m.payload + 16, 8);
    memcpy(rep, m.payload, 16);
    vfio_user_conn_send_reply(p->f->k.c, VFIO_USER_CHAN_MAIN, &m.hdr, rep,
                              p->reply_len, NULL, 0);
    return NULL;
}

static int dma_write_with_reply(struct fx *f, uint32_t reply_len)
{
    struct dma_peer p = {.f = f, .reply_len = reply_len};
    pthread_t th;
    int r;

    assert_int_equal(pthread_create(&th, NULL, dma_peer_main, &p), 0);
    r = vfio_srv_dma_write(f->k.srv, IOVA + 8, "abcdefgh", 8);
    pthread_join(th, NULL);
    assert_int_equal(p.addr, IOVA + 8);
    assert_memory_equal(p.data, "abcdefgh", 8);
    return r;
}

/* DMA_WRITE through messages (a map without fd): the reply may echo
 * address and count (16 bytes, or the spec table's 12) or be a bare
 * header (QEMU's client); anything between is a protocol error. */
static void test_dma_write_replies(void **state)
{
    struct fx *f = *state;
    struct vfio_user_dma_map m = {.argsz = 32, .flags = 3, .address = IOVA,
                                  .size = 65536};

    version(f);
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, NULL, 0), 0);
    assert_int_equal(dma_write_with_reply(f, 16), 0);
    assert_int_equal(dma_write_with_reply(f, 12), 0);
    assert_int_equal(dma_write_with_reply(f, 0), 0);
    assert_int_equal(dma_write_with_reply(f, 5), -EPROTO);
}

/* The client side of posted DMA: take three messages (two DMA_WRITEs, a
 * DMA_READ), then answer them in reverse order; the read's reply carries
 * @rdata (@short_read: 4 bytes too few). */
struct posted_peer {
    struct fx *f;
    bool short_read;
    uint8_t wdata[2][8];
};

static void *posted_peer_main(void *arg)
{
    struct posted_peer *p = arg;
    struct vfio_user_expect exp;
    struct vfio_user_msg m[3];
    uint8_t buf[3][64], rep[16 + 8];
    struct pollfd pfd = {
        .fd = vfio_user_conn_fd(p->f->k.c, VFIO_USER_CHAN_MAIN),
        .events = POLLIN};

    memset(m, 0, sizeof(m));
    vfio_user_conn_expect_command(p->f->k.c, &exp);
    for (int i = 0; i < 3; i++) {
        m[i].payload = buf[i];
        m[i].payload_cap = sizeof(buf[i]);
        if (poll(&pfd, 1, 2000) != 1 ||
            vfio_user_conn_recv(p->f->k.c, VFIO_USER_CHAN_MAIN, &exp, false,
                                &m[i], NULL))
            return NULL;
        if (i < 2 && m[i].payload_len == 16 + 8)
            memcpy(p->wdata[i], buf[i] + 16, 8);
    }
    for (int i = 2; i >= 0; i--) {
        memcpy(rep, buf[i], 16);
        memcpy(rep + 16, "READDATA", 8);
        vfio_user_conn_send_reply(p->f->k.c, VFIO_USER_CHAN_MAIN, &m[i].hdr,
                                  rep, i < 2 ? 16 : p->short_read ? 20 : 24,
                                  NULL, 0);
    }
    return NULL;
}

static int posted_round(struct fx *f, bool short_read, uint8_t *rd)
{
    struct posted_peer p = {.f = f, .short_read = short_read};
    pthread_t th;
    int r;

    assert_int_equal(pthread_create(&th, NULL, posted_peer_main, &p), 0);
    assert_int_equal(vfio_srv_dma_write_posted(f->k.srv, IOVA + 8,
                                               "abcdefgh", 8), 0);
    assert_int_equal(vfio_srv_dma_write_posted(f->k.srv, IOVA + 16,
                                               "ijklmnop", 8), 0);
    assert_int_equal(vfio_srv_dma_read_posted(f->k.srv, IOVA + 32, rd, 8),
                     0);
    r = vfio_srv_dma_flush(f->k.srv);
    pthread_join(th, NULL);
    assert_memory_equal(p.wdata[0], "abcdefgh", 8);
    assert_memory_equal(p.wdata[1], "ijklmnop", 8);
    return r;
}

/* Posted DMA (several messages in flight, replies matched by msg_id in
 * any order): all complete at the flush, the read's data in place; a
 * DMA_READ reply shorter than asked is a protocol error; an unmapped
 * range fails before anything is sent. */
static void test_dma_posted(void **state)
{
    struct fx *f = *state;
    struct vfio_user_dma_map m = {.argsz = 32, .flags = 3, .address = IOVA,
                                  .size = 65536};
    uint8_t rd[8] = {0};

    version(f);
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, NULL, 0), 0);
    assert_int_equal(posted_round(f, false, rd), 0);
    assert_memory_equal(rd, "READDATA", 8);
    assert_int_equal(posted_round(f, true, rd), -EPROTO);
    assert_int_equal(vfio_srv_dma_write_posted(f->k.srv, IOVA - 4096, "x",
                                               1), -EFAULT);
    assert_int_equal(vfio_srv_dma_flush(f->k.srv), 0);
}

static int mig(struct fx *f, uint32_t state)
{
    uint8_t pl[16] = {0};

    ((struct vfio_user_device_feature *)pl)->argsz = 16;
    ((struct vfio_user_device_feature *)pl)->flags =
        VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
    memcpy(pl + 8, &state, 4);
    return call(f, VFIO_USER_DEVICE_FEATURE, pl, 16, NULL, 0);
}

static void test_migration(void **state)
{
    struct fx *f = *state;
    struct vfio_user_mig_data rd = {.argsz = 8 + 4096, .size = 4096};
    uint8_t wr[8 + 5000];
    struct vfio_user_mig_data wh = {.argsz = 8, .size = 5000};

    version(f);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &rd, 8, NULL, 0),
                     -EINVAL);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_STOP_COPY), 0);
    assert_int_equal(vfio_srv_mig_state(f->k.srv), VFIO_DEVICE_STATE_STOP_COPY);
    assert_int_equal(f->arcs, 2); /* RUNNING -> STOP -> STOP_COPY */
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &rd, 8, NULL, 0), 0);
    assert_int_equal(f->k.rep.payload_len, 8 + 4096);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &rd, 8, NULL, 0), 0);
    assert_int_equal(f->k.rep.payload_len, 8 + 904);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_PRE_COPY), -EINVAL);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_RESUMING), 0);
    memcpy(wr, &wh, 8);
    memset(wr + 8, 0x5a, 5000);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_WRITE, wr, sizeof(wr), NULL,
                          0), 0);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_RUNNING), 0);
    assert_int_equal(f->loads, 1);
    assert_int_equal(f->loaded, 5000);
    /* A bad stream fails RESUMING -> STOP into ERROR; reset recovers. */
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_RESUMING), 0);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_STOP), -EINVAL);
    assert_int_equal(vfio_srv_mig_state(f->k.srv), VFIO_DEVICE_STATE_ERROR);
    assert_int_equal(call(f, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0), 0);
    assert_int_equal(vfio_srv_mig_state(f->k.srv), VFIO_DEVICE_STATE_RUNNING);
}

/* Strict mode (libvfio-user's rules): commands refused while stopped,
 * padded MIG_DATA_READ replies, MIG_DATA_WRITE argsz >= 8 + size. */
static void test_migration_strict(void **state)
{
    struct fx *f = *state;
    struct vfio_user_mig_data rd = {.argsz = 8 + 4096, .size = 4096}, h;
    struct vfio_device_info di = {.argsz = 16};
    uint8_t wr[8 + 5000];
    struct vfio_user_mig_data wh = {.argsz = 8, .size = 5000};

    version(f);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL, 0),
                     0); /* running: served */
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_STOP_COPY), 0);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL, 0),
                     -EINVAL);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &rd, 8, NULL, 0), 0);
    assert_int_equal(f->k.rep.payload_len, 8 + 4096);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &rd, 8, NULL, 0), 0);
    memcpy(&h, f->k.buf, 8);
    assert_int_equal(h.size, 904);                   /* the data */
    assert_int_equal(f->k.rep.payload_len, 8 + 4096);  /* padded */
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_STOP), 0);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL, 0),
                     -EINVAL);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_RESUMING), 0);
    memcpy(wr, &wh, 8);
    memset(wr + 8, 0x5a, 5000);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_WRITE, wr, sizeof(wr), NULL,
                          0), -EINVAL); /* argsz 8 < 8 + 5000 */
    wh.argsz = 8 + 5000;
    memcpy(wr, &wh, 8);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_WRITE, wr, sizeof(wr), NULL,
                          0), 0);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_RUNNING), 0);
    assert_int_equal(f->loads, 1);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL, 0),
                     0);
}

/* PRE_COPY carries the device's early part; what the client has not read
 * of it by STOP_COPY leads the STOP_COPY stream. Leaving the saving group
 * ends the stream. */
static void test_migration_pre_copy(void **state)
{
    struct fx *f = *state;
    struct vfio_user_mig_data rd = {.argsz = 8 + 100, .size = 100}, h;
    struct vfio_user_mig_data big = {.argsz = 8 + 8192, .size = 8192};

    version(f);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_PRE_COPY), 0);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &rd, 8, NULL, 0), 0);
    assert_int_equal(f->k.rep.payload_len, 8 + 100);
    assert_int_equal(f->k.buf[8], 0x11);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_STOP_COPY), 0);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &big, 8, NULL, 0), 0);
    memcpy(&h, f->k.buf, 8);
    assert_int_equal(h.size, 200 + 5000);
    assert_int_equal(f->k.buf[8], 0x11);          /* the pre-copy rest */
    assert_int_equal(f->k.buf[8 + 199], 0x11);
    assert_int_equal(f->k.buf[8 + 200], 0x5a);    /* then the final state */
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &big, 8, NULL, 0), 0);
    assert_int_equal(f->k.rep.payload_len, 8);    /* drained */
    /* A cancelled pre-copy: back to RUNNING, nothing left to read. */
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_RUNNING), 0);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_PRE_COPY), 0);
    assert_int_equal(mig(f, VFIO_DEVICE_STATE_RUNNING), 0);
    assert_int_equal(call(f, VFIO_USER_MIG_DATA_READ, &rd, 8, NULL, 0),
                     -EINVAL);
}

static void test_disconnect(void **state)
{
    struct fx *f = *state;
    int mfd = memfd_create("g", 0), efd = eventfd(0, 0);
    struct vfio_user_dma_map m = {.argsz = 32, .flags = 3, .address = IOVA,
                                  .size = 4096};
    struct vfio_irq_set s = {.argsz = 20, .index = VFIO_PCI_MSIX_IRQ_INDEX,
                             .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                                      VFIO_IRQ_SET_ACTION_TRIGGER,
                             .count = 1};

    assert_int_equal(ftruncate(mfd, 4096), 0);
    version(f);
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, &mfd, 1), 0);
    assert_int_equal(call(f, VFIO_USER_DEVICE_SET_IRQS, &s, 20, &efd, 1), 0);
    vfio_user_conn_free(f->k.c);
    assert_int_equal(vfio_srv_handle_ready(f->k.srv), -ENOTCONN);
    assert_int_equal(f->unmaps, 1);
    assert_null(vfio_srv_dma_translate(f->k.srv, IOVA, 1, false));
    assert_false(vfio_srv_irq_has_fd(f->k.srv, VFIO_PCI_MSIX_IRQ_INDEX, 0));
    srv_client_attach(&f->k);
    version(f);
    close(mfd);
    close(efd);
}

/* A client that never answers a DMA_READ (here on its main socket; the
 * same holds for a twin socket it keeps open) costs the server the reply
 * deadline and its connection, never a hang. */
static void test_dma_reply_deadline(void **state)
{
    struct fx *f = *state;
    struct vfio_user_dma_map m = {.argsz = 32, .flags = 3, .address = IOVA,
                                  .size = 65536};
    struct timespec t0, t1;
    uint8_t rd[8];
    long ms;

    vfio_user_conn_free(f->k.c);
    assert_int_equal(vfio_srv_handle_ready(f->k.srv), -ENOTCONN);
    vfio_srv_set_timeout(f->k.srv, 100);
    srv_client_attach(&f->k);
    version(f);
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, NULL, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vfio_srv_dma_read(f->k.srv, IOVA, rd, sizeof(rd)),
                     -ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 90 && ms < 5000);
    assert_int_equal(vfio_srv_handle_ready(f->k.srv), -ENOTCONN);
    assert_false(vfio_srv_connected(f->k.srv));
}

static void test_garbage(void **state)
{
    struct fx *f = *state;
    uint8_t junk[64];
    int fd = vfio_user_conn_fd(f->k.c, VFIO_USER_CHAN_MAIN);

    version(f);
    assert_int_equal(call(f, 77, NULL, 0, NULL, 0), -ENOTSUP);
    memset(junk, 0xff, sizeof(junk)); /* msg_size 0xffffffff */
    assert_int_equal(write(fd, junk, sizeof(junk)), 64);
    assert_int_equal(vfio_srv_handle_ready(f->k.srv), -ENOTCONN);
    assert_false(vfio_srv_connected(f->k.srv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_version_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_posted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_write_replies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migration_strict, setup_strict,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migration_pre_copy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_version_bad_json, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_region_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_ioeventfds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_set_irqs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_rw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_and_logging, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_reply_deadline, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
