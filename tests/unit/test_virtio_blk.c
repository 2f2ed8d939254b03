/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk device model (virtio/blk.c) over fake flat guest memory, a
 * temporary backing file and a real io_uring: request types, readonly,
 * malformed requests, the message-based DMA (bounce) path, ring-full
 * back-pressure, reset and save/load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <libfdt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "virtio/blk.h"
#include "virtio/device.h"
#include "virtio/guest_mem.h"
#include "virtio/vring_driver.h"

#define MEM_GPA    0x100000ULL
#define MEM_SIZE   (16ULL << 20)
#define QSIZE      256
#define HDR_GPA    (MEM_GPA + 0x100000)     /* 32 bytes per slot */
#define IND_GPA    (MEM_GPA + 0x180000)     /* 4 KiB per slot */
#define DATA_GPA   (MEM_GPA + 0x400000)     /* 4 KiB per slot */
#define DISK_SIZE  (1u << 20)
#define SERIAL     "minivmm-test-disk"

struct fixture {
    uint8_t *host;
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct vring_drv drv[2];
    int fd;
    char path[64];
    struct virtio_blk *blk;
    struct virtio_irq irq;
    unsigned int queue_irqs, config_irqs;
    struct virtio_blk_params params;
    bool shared;
};

static int irq_queue(void *opaque, uint16_t qidx)
{
    struct fixture *f = opaque;

    (void)qidx;
    f->queue_irqs++;
    return 0;
}

static int irq_config(void *opaque)
{
    struct fixture *f = opaque;

    f->config_irqs++;
    return 0;
}

static const struct virtio_irq_ops irq_ops = {
    .notify_queue = irq_queue,
    .notify_config = irq_config,
};

static uint8_t *host(struct fixture *f, uint64_t gpa)
{
    return f->host + (gpa - MEM_GPA);
}

static uint8_t pattern(uint64_t off)
{
    return (uint8_t)(off * 7 + (off >> 9));
}

static void make_disk(struct fixture *f, uint32_t size)
{
    uint8_t *buf = malloc(size);
    uint32_t i;

    assert_non_null(buf);
    strcpy(f->path, "/tmp/test_virtio_blk.XXXXXX");
    f->fd = mkstemp(f->path);
    assert_true(f->fd >= 0);
    unlink(f->path);
    for (i = 0; i < size; i++)
        buf[i] = pattern(i);
    assert_int_equal(pwrite(f->fd, buf, size, 0), (ssize_t)size);
    free(buf);
}

static void start_device(struct fixture *f)
{
    uint64_t end;
    unsigned int i;

    f->irq.ops = &irq_ops;
    f->irq.opaque = f;
    virtio_flat_mem_init(&f->fm, f->host, MEM_GPA, MEM_SIZE, f->shared,
                         &f->mem);
    for (i = 0; i < 2; i++)
        assert_int_equal(vring_drv_init(&f->drv[i], &f->mem, QSIZE,
                                        MEM_GPA + i * 0x10000, &end), 0);
    f->params.fd = f->fd;
    assert_int_equal(virtio_blk_create(&f->params, &f->mem, &f->irq,
                                       &f->blk), 0);
    assert_int_equal(vring_drv_setup_device(virtio_blk_vdev(f->blk), f->drv),
                     0);
}

static int setup_full(void **state, bool shared, bool readonly, bool defer)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->host = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(f->host != MAP_FAILED);
    make_disk(f, DISK_SIZE);
    f->shared = shared;
    f->params.readonly = readonly;
    f->params.discard = true;
    f->params.write_zeroes = true;
    f->params.serial = SERIAL;
    f->params.queue_size = QSIZE;
    f->params.defer_completions = defer;
    *state = f;
    start_device(f);
    return 0;
}

static int setup_with(void **state, bool shared, bool readonly)
{
    return setup_full(state, shared, readonly, false);
}

/* Completions only from virtio_blk_handle_ready(): a request stays in
 * flight after its doorbell. */
static int setup_deferred(void **state)
{
    return setup_full(state, true, false, true);
}

static int setup(void **state)
{
    return setup_with(state, true, false);
}

static int setup_message(void **state)
{
    return setup_with(state, false, false);
}

static int setup_ro(void **state)
{
    return setup_with(state, true, true);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    virtio_blk_destroy(f->blk);
    close(f->fd);
    munmap(f->host, MEM_SIZE);
    free(f);
    return 0;
}

/* --- a tiny virtio-blk driver -------------------------------------------- */

struct req {
    uint32_t type;
    uint64_t sector;
    unsigned int slot;          /* selects header/status/data addresses */
    uint32_t len;               /* data bytes */
    unsigned int nseg;          /* data split into this many buffers */
    bool indirect;
    uint16_t qidx;
};

static uint64_t hdr_gpa(unsigned int slot)
{
    return HDR_GPA + 32ULL * slot;
}

static uint64_t data_gpa(unsigned int slot)
{
    return DATA_GPA + 0x1000ULL * slot;
}

static uint8_t *status_byte(struct fixture *f, unsigned int slot)
{
    return host(f, hdr_gpa(slot) + 16);
}

static bool device_writes(uint32_t type)
{
    return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

static uint16_t submit(struct fixture *f, const struct req *r)
{
    struct virtio_blk_outhdr hdr = {
        .type = htole32(r->type),
        .sector = htole64(r->sector),
    };
    struct vring_drv_buf b[16];
    unsigned int n = 0, i, nseg = r->nseg ? r->nseg : 1;
    uint32_t piece = r->len / nseg;
    uint16_t head;

    memcpy(host(f, hdr_gpa(r->slot)), &hdr, sizeof(hdr));
    *status_byte(f, r->slot) = 0xee;
    b[n++] = (struct vring_drv_buf){ hdr_gpa(r->slot), 16, false };
    for (i = 0; r->len && i < nseg; i++)
        b[n++] = (struct vring_drv_buf){
            data_gpa(r->slot) + (uint64_t)i * piece,
            i + 1 < nseg ? piece : r->len - i * piece,
            device_writes(r->type) };
    b[n++] = (struct vring_drv_buf){ hdr_gpa(r->slot) + 16, 1, true };
    assert_int_equal(vring_drv_add_chain(&f->drv[r->qidx], b, n,
                                         r->indirect ? IND_GPA + 0x1000ULL *
                                         r->slot : 0, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv[r->qidx], head), 0);
    return head;
}

static void wait_used(struct fixture *f, uint16_t qidx, uint32_t *id,
                      uint32_t *len)
{
    struct pollfd p = { .fd = virtio_blk_poll_fd(f->blk), .events = POLLIN };
    int i;

    for (i = 0; i < 1000; i++) {
        if (vring_drv_get_used(&f->drv[qidx], id, len) == 1)
            return;
        poll(&p, 1, 100);
        assert_int_equal(virtio_blk_handle_ready(f->blk), 0);
    }
    fail_msg("no used entry");
}

/* Submit, kick, wait; returns the status byte. */
static uint8_t run(struct fixture *f, const struct req *r, uint32_t *used)
{
    uint16_t head = submit(f, r);
    uint32_t id, len;

    assert_int_equal(virtio_blk_queue_notify(f->blk, r->qidx), 0);
    wait_used(f, r->qidx, &id, &len);
    assert_int_equal(id, head);
    if (used)
        *used = len;
    return *status_byte(f, r->slot);
}

static void check_file(struct fixture *f, uint64_t off, const uint8_t *want,
                       uint32_t len)
{
    uint8_t *buf = malloc(len);

    assert_non_null(buf);
    assert_int_equal(pread(f->fd, buf, len, off), (ssize_t)len);
    assert_memory_equal(buf, want, len);
    free(buf);
}

static void check_pattern(const uint8_t *p, uint64_t off, uint32_t len)
{
    uint32_t i;

    for (i = 0; i < len; i++)
        assert_int_equal(p[i], pattern(off + i));
}

/* --- features and config ------------------------------------------------- */

static uint64_t offered(struct virtio_blk *blk)
{
    struct virtio_dev *vdev = virtio_blk_vdev(blk);
    uint64_t f;

    virtio_dev_select_device_features(vdev, 0);
    f = virtio_dev_read_device_features(vdev);
    virtio_dev_select_device_features(vdev, 1);
    return f | (uint64_t)virtio_dev_read_device_features(vdev) << 32;
}

static void test_features_and_config(void **state)
{
    struct fixture *f = *state;
    struct virtio_dev *vdev = virtio_blk_vdev(f->blk);
    uint64_t want = (1ULL << VIRTIO_F_VERSION_1) |
                    (1ULL << VIRTIO_BLK_F_FLUSH) |
                    (1ULL << VIRTIO_BLK_F_SEG_MAX) |
                    (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                    (1ULL << VIRTIO_BLK_F_DISCARD) |
                    (1ULL << VIRTIO_BLK_F_WRITE_ZEROES) |
                    (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                    (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    struct virtio_blk_config cfg;
    uint8_t b;

    assert_int_equal(offered(f->blk) & want, want);
    assert_false(offered(f->blk) & (1ULL << VIRTIO_BLK_F_RO));
    assert_false(offered(f->blk) & (1ULL << VIRTIO_BLK_F_MQ));
    assert_int_equal(virtio_dev_config_read(vdev, 0, &cfg, sizeof(cfg)), 0);
    assert_int_equal(le64toh(cfg.capacity), DISK_SIZE / 512);
    assert_int_equal(le32toh(cfg.seg_max), QSIZE - 2);
    assert_int_equal(le32toh(cfg.blk_size), 512);
    assert_int_equal(le16toh(cfg.num_queues), 1);
    assert_true(le32toh(cfg.max_discard_seg) >= 1);
    assert_true(le32toh(cfg.max_write_zeroes_sectors) >= 1);
    assert_int_equal(virtio_dev_config_read(vdev, sizeof(cfg), &b, 1),
                     -EINVAL);
    assert_int_equal(virtio_dev_config_read(vdev, 0xffffffffu, &b, 2),
                     -EINVAL);
    assert_int_equal(virtio_blk_capacity(f->blk), DISK_SIZE / 512);
}

static void test_bad_params(void **state)
{
    struct fixture *f = *state;
    const struct virtio_blk_params bad[] = {
        { .fd = f->fd, .queue_size = 100 },
        { .fd = f->fd, .blk_size = 1000 },
        { .fd = f->fd, .num_queues = VIRTIO_DEV_MAX_QUEUES + 1 },
        { .fd = -1 },
    };
    struct virtio_blk *blk;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(virtio_blk_create(&bad[i], &f->mem, &f->irq, &blk),
                         -EINVAL);
}

/* --- request types ------------------------------------------------------- */

static void test_read(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_IN, .sector = 3, .len = 2048,
                     .nseg = 3 };
    struct virtio_blk_stats st;
    uint32_t used;

    f->fm.dirty_pages = 0;
    assert_int_equal(run(f, &r, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 2049);
    check_pattern(host(f, data_gpa(0)), 3 * 512, 2048);
    virtio_blk_get_stats(f->blk, &st);
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.bytes_read, 2048);
    assert_int_equal(st.errors, 0);
    assert_true(f->fm.dirty_pages > 0);     /* device writes are logged */
    assert_true(f->queue_irqs > 0);
}

static void test_write(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_OUT, .sector = 10, .len = 1536,
                     .nseg = 2 };
    struct virtio_blk_stats st;
    uint32_t used;

    memset(host(f, data_gpa(0)), 0x5a, 1536);
    assert_int_equal(run(f, &r, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1);
    check_file(f, 10 * 512, host(f, data_gpa(0)), 1536);
    virtio_blk_get_stats(f->blk, &st);
    assert_int_equal(st.bytes_written, 1536);
}

static void test_indirect_read(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_IN, .sector = 100, .len = 4096,
                     .nseg = 8, .indirect = true };

    assert_int_equal(run(f, &r, NULL), VIRTIO_BLK_S_OK);
    check_pattern(host(f, data_gpa(0)), 100 * 512, 4096);
}

static void test_flush(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_FLUSH };
    uint32_t used;

    assert_int_equal(run(f, &r, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1);
}

static void test_get_id(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_GET_ID, .len = 20 };
    uint32_t used;

    memset(host(f, data_gpa(0)), 0xff, 20);
    assert_int_equal(run(f, &r, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 21);
    assert_string_equal((char *)host(f, data_gpa(0)), SERIAL);
}

static uint8_t run_dwz(struct fixture *f, uint32_t type,
                       const struct virtio_blk_discard_write_zeroes *rg,
                       unsigned int n)
{
    struct req r = { .type = type, .len = 16 * n };

    memcpy(host(f, data_gpa(0)), rg, 16 * n);
    return run(f, &r, NULL);
}

static void test_discard_and_write_zeroes(void **state)
{
    struct fixture *f = *state;
    struct virtio_blk_discard_write_zeroes rg[2] = {
        { .sector = htole64(8), .num_sectors = htole32(8) },
        { .sector = htole64(64), .num_sectors = htole32(1) },
    };
    uint8_t zeros[4096] = { 0 };

    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, rg, 2),
                     VIRTIO_BLK_S_OK);
    check_file(f, 8 * 512, zeros, 4096);
    check_file(f, 64 * 512, zeros, 512);
    rg[0].sector = htole64(20);
    rg[0].flags = htole32(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, rg, 1),
                     VIRTIO_BLK_S_OK);
    check_file(f, 20 * 512, zeros, 4096);
    assert_int_equal(pread(f->fd, zeros, 512, 28 * 512), 512);
    check_pattern(zeros, 28 * 512, 512);    /* the neighbour is untouched */
}

/* --- readonly ------------------------------------------------------------ */

static void test_readonly(void **state)
{
    struct fixture *f = *state;
    struct req w = { .type = VIRTIO_BLK_T_OUT, .sector = 0, .len = 512 };
    struct req rd = { .type = VIRTIO_BLK_T_IN, .sector = 0, .len = 512 };
    struct virtio_blk_discard_write_zeroes rg = {
        .sector = 0, .num_sectors = htole32(1) };
    uint8_t orig[512];

    assert_true(offered(f->blk) & (1ULL << VIRTIO_BLK_F_RO));
    assert_false(offered(f->blk) & (1ULL << VIRTIO_BLK_F_DISCARD));
    assert_false(offered(f->blk) & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
    assert_int_equal(pread(f->fd, orig, 512, 0), 512);
    memset(host(f, data_gpa(0)), 0x11, 512);
    /* spec 5.2.6.2: IOERR for writes to a read-only device, no data */
    assert_int_equal(run(f, &w, NULL), VIRTIO_BLK_S_IOERR);
    check_file(f, 0, orig, 512);
    /* not negotiated: UNSUPP */
    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, &rg, 1),
                     VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, &rg, 1),
                     VIRTIO_BLK_S_UNSUPP);
    check_file(f, 0, orig, 512);
    assert_int_equal(run(f, &rd, NULL), VIRTIO_BLK_S_OK);
    check_pattern(host(f, data_gpa(0)), 0, 512);
}

/* --- bad requests: error status, device keeps working --------------------- */

static void test_bad_requests(void **state)
{
    struct fixture *f = *state;
    const uint64_t end = DISK_SIZE / 512;
    const struct req c[] = {
        { .type = VIRTIO_BLK_T_IN, .sector = end - 1, .len = 1024 },
        { .type = VIRTIO_BLK_T_IN, .sector = UINT64_MAX, .len = 512 },
        { .type = VIRTIO_BLK_T_IN, .len = 100 },        /* not 512 * n */
        { .type = VIRTIO_BLK_T_OUT, .sector = end, .len = 512 },
        { .type = 0x77, .len = 512 },
    };
    const uint8_t want[] = { VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR,
                             VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR,
                             VIRTIO_BLK_S_UNSUPP };
    struct req empty = { .type = VIRTIO_BLK_T_IN };
    struct virtio_blk_stats st;
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        assert_int_equal(run(f, &c[i], NULL), want[i]);
    assert_int_equal(run(f, &empty, NULL), VIRTIO_BLK_S_OK);
    virtio_blk_get_stats(f->blk, &st);
    assert_int_equal(st.errors, 5);
    assert_false(virtio_dev_read_status(virtio_blk_vdev(f->blk)) &
                 VIRTIO_DEV_S_NEEDS_RESET);
}

static void test_bad_dwz(void **state)
{
    struct fixture *f = *state;
    struct virtio_blk_discard_write_zeroes rg[17] = {
        { .sector = 0, .num_sectors = htole32(1),
          .flags = htole32(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) },
    };
    struct req r = { .type = VIRTIO_BLK_T_DISCARD, .len = 8 };

    /* unmap flag on discard: UNSUPP (spec 5.2.6.2) */
    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, rg, 1),
                     VIRTIO_BLK_S_UNSUPP);
    rg[0].flags = htole32(0x80);
    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, rg, 1),
                     VIRTIO_BLK_S_UNSUPP);
    rg[0].flags = 0;
    rg[0].sector = htole64(DISK_SIZE / 512);
    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, rg, 1),
                     VIRTIO_BLK_S_IOERR);
    rg[0].sector = 0;
    assert_int_equal(run_dwz(f, VIRTIO_BLK_T_DISCARD, rg, 17),
                     VIRTIO_BLK_S_IOERR);                 /* > max_seg */
    assert_int_equal(run(f, &r, NULL), VIRTIO_BLK_S_IOERR); /* partial */
}

/* Run a hand-built chain; returns the used length. */
static uint32_t run_chain(struct fixture *f, const struct vring_drv_buf *b,
                          unsigned int n)
{
    uint32_t id, len;
    uint16_t head;

    *status_byte(f, 0) = 0xee;
    assert_int_equal(vring_drv_add_chain(&f->drv[0], b, n, 0, &head), 0);
    assert_int_equal(vring_drv_publish(&f->drv[0], head), 0);
    assert_int_equal(virtio_blk_queue_notify(f->blk, 0), 0);
    wait_used(f, 0, &id, &len);
    assert_int_equal(id, head);
    return len;
}

static void test_bad_layout(void **state)
{
    struct fixture *f = *state;
    const struct vring_drv_buf short_hdr[] = {
        { hdr_gpa(0), 8, false }, { hdr_gpa(0) + 16, 1, true },
    };
    const struct vring_drv_buf no_status[] = { { hdr_gpa(0), 16, false } };

    assert_int_equal(run_chain(f, short_hdr, 2), 1);
    assert_int_equal(*status_byte(f, 0), VIRTIO_BLK_S_IOERR);
    /* nowhere to put a status: completed with used length 0 */
    assert_int_equal(run_chain(f, no_status, 1), 0);
}

static void test_too_many_segments(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_IN, .len = 4096, .nseg = 8,
                     .indirect = true };

    /* recreate with seg_max 4: the 8-segment chain is refused, not
     * truncated */
    virtio_blk_destroy(f->blk);
    f->params.seg_max = 4;
    start_device(f);
    assert_int_equal(run(f, &r, NULL), VIRTIO_BLK_S_IOERR);
    r.nseg = 4;
    assert_int_equal(run(f, &r, NULL), VIRTIO_BLK_S_OK);
}

static void test_malformed_chain_needs_reset(void **state)
{
    struct fixture *f = *state;
    const struct req flush = { .type = VIRTIO_BLK_T_FLUSH };
    struct virtio_dev *vdev = virtio_blk_vdev(f->blk);

    assert_int_equal(vring_drv_write_desc(&f->drv[0], f->drv[0].desc_gpa, 0,
                                          hdr_gpa(0), 16, VRING_DESC_F_NEXT,
                                          0), 0);
    assert_int_equal(vring_drv_publish(&f->drv[0], 0), 0);
    assert_int_equal(virtio_blk_queue_notify(f->blk, 0), -ELOOP);
    assert_true(virtio_dev_read_status(vdev) & VIRTIO_DEV_S_NEEDS_RESET);
    assert_int_equal(f->config_irqs, 1);
    /* further doorbells are ignored until the driver resets */
    assert_int_equal(virtio_blk_queue_notify(f->blk, 0), 0);
    assert_int_equal(virtio_dev_write_status(vdev, 0), 0);
    assert_int_equal(virtio_dev_read_status(vdev), 0);
    assert_int_equal(vring_drv_init(&f->drv[0], &f->mem, QSIZE, MEM_GPA,
                                    NULL), 0);
    assert_int_equal(vring_drv_setup_device(virtio_blk_vdev(f->blk), f->drv),
                     0);
    assert_int_equal(run(f, &flush, NULL), VIRTIO_BLK_S_OK);
}

/* --- message-based DMA: bounce buffers through the copy ops ------------- */

static void test_message_read_write(void **state)
{
    struct fixture *f = *state;
    struct req w = { .type = VIRTIO_BLK_T_OUT, .sector = 40, .len = 3072,
                     .nseg = 3 };
    struct req r = { .type = VIRTIO_BLK_T_IN, .sector = 40, .len = 3072,
                     .nseg = 5, .indirect = true, .slot = 1 };
    struct req id = { .type = VIRTIO_BLK_T_GET_ID, .len = 20, .slot = 2 };
    uint32_t used;
    uint64_t reads, writes;

    assert_false(virtio_mem_can_translate(&f->mem));
    for (used = 0; used < 3072; used++)
        host(f, data_gpa(0))[used] = (uint8_t)(used * 13);
    reads = f->fm.reads;
    assert_int_equal(run(f, &w, NULL), VIRTIO_BLK_S_OK);
    assert_true(f->fm.reads > reads);       /* data fetched by message */
    check_file(f, 40 * 512, host(f, data_gpa(0)), 3072);
    writes = f->fm.writes;
    assert_int_equal(run(f, &r, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 3073);
    assert_true(f->fm.writes > writes);     /* data returned by message */
    assert_memory_equal(host(f, data_gpa(1)), host(f, data_gpa(0)), 3072);
    assert_int_equal(run(f, &id, NULL), VIRTIO_BLK_S_OK);
    assert_string_equal((char *)host(f, data_gpa(2)), SERIAL);
}

static void test_message_bad_buffer(void **state)
{
    struct fixture *f = *state;
    const struct vring_drv_buf b[] = {
        { hdr_gpa(0), 16, false },
        { MEM_GPA + MEM_SIZE - 256, 512, true },    /* runs off the end */
        { hdr_gpa(0) + 16, 1, true },
    };
    struct virtio_blk_outhdr hdr = { .type = htole32(VIRTIO_BLK_T_IN) };

    /* without translate the queue cannot check buffers when popping: the
     * request fails with IOERR at copy time instead */
    memcpy(host(f, hdr_gpa(0)), &hdr, sizeof(hdr));
    run_chain(f, b, 3);
    assert_int_equal(*status_byte(f, 0), VIRTIO_BLK_S_IOERR);
}

/* --- many requests: ring back-pressure, completion order ---------------- */

static void test_many_requests(void **state)
{
    struct fixture *f = *state;
    const unsigned int n = QSIZE - 6;
    struct req r = { .type = VIRTIO_BLK_T_IN, .len = 512, .indirect = true };
    unsigned int i, seen = 0;
    uint32_t id, len;

    for (i = 0; i < n; i++) {
        r.slot = i;
        r.sector = i % (DISK_SIZE / 512);
        submit(f, &r);
    }
    assert_int_equal(virtio_blk_queue_notify(f->blk, 0), 0);
    assert_true(virtio_blk_inflight(f->blk) < n);   /* ring was full */
    while (seen < n) {
        wait_used(f, 0, &id, &len);
        assert_int_equal(len, 513);
        seen++;
    }
    for (i = 0; i < n; i++) {
        assert_int_equal(*status_byte(f, i), VIRTIO_BLK_S_OK);
        check_pattern(host(f, data_gpa(i)), (i % (DISK_SIZE / 512)) * 512,
                      512);
    }
    assert_int_equal(virtio_blk_inflight(f->blk), 0);
}

static void test_multiqueue(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_IN, .sector = 7, .len = 512,
                     .qidx = 1 };
    struct virtio_blk_config cfg;

    virtio_blk_destroy(f->blk);
    f->params.num_queues = 2;
    start_device(f);
    assert_true(offered(f->blk) & (1ULL << VIRTIO_BLK_F_MQ));
    assert_int_equal(virtio_dev_config_read(virtio_blk_vdev(f->blk), 0, &cfg,
                                            sizeof(cfg)), 0);
    assert_int_equal(le16toh(cfg.num_queues), 2);
    assert_int_equal(run(f, &r, NULL), VIRTIO_BLK_S_OK);
    check_pattern(host(f, data_gpa(0)), 7 * 512, 512);
    assert_int_equal(virtio_blk_queue_notify(f->blk, 2), -EINVAL);
}

/* --- reset and state ----------------------------------------------------- */

static void test_reset_drops_inflight(void **state)
{
    struct fixture *f = *state;
    struct virtio_dev *vdev = virtio_blk_vdev(f->blk);
    struct req r = { .type = VIRTIO_BLK_T_IN, .len = 4096 };
    uint16_t idx;

    submit(f, &r);
    assert_int_equal(virtio_blk_queue_notify(f->blk, 0), 0);
    assert_int_equal(virtio_blk_inflight(f->blk), 1);
    assert_int_equal(virtio_dev_write_status(vdev, 0), 0);
    assert_int_equal(virtio_blk_inflight(f->blk), 0);
    assert_int_equal(vring_drv_get_used_idx(&f->drv[0], &idx), 0);
    assert_int_equal(idx, 0);       /* nothing written after reset */
    assert_int_equal(*status_byte(f, 0), 0xee);
}

/* A read served from the page cache completes inside the submit: the
 * doorbell itself writes the used element and drains the io_uring's
 * eventfd, so the event loop is not woken a second time for it. */
static void test_doorbell_reaps_cached_read(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_IN, .sector = 2, .len = 4096 };
    struct pollfd p = { .fd = virtio_blk_poll_fd(f->blk), .events = POLLIN };
    uint16_t idx;

    submit(f, &r);
    assert_int_equal(virtio_blk_queue_notify(f->blk, 0), 0);
    assert_int_equal(virtio_blk_inflight(f->blk), 0);
    assert_int_equal(vring_drv_get_used_idx(&f->drv[0], &idx), 0);
    assert_int_equal(idx, 1);
    assert_int_equal(*status_byte(f, 0), VIRTIO_BLK_S_OK);
    assert_int_equal(poll(&p, 1, 0), 0);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    struct req r = { .type = VIRTIO_BLK_T_IN, .sector = 1, .len = 512 };
    struct virtio_blk *blk2;
    struct virtio_dev *v1 = virtio_blk_vdev(f->blk), *v2;
    static char fdt[16384];
    int node;

    assert_int_equal(run(f, &r, NULL), VIRTIO_BLK_S_OK);
    /* in flight at save time: refused until quiesced */
    r.slot = 1;
    submit(f, &r);
    assert_int_equal(virtio_blk_queue_notify(f->blk, 0), 0);
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "virtio-blk@0");
    assert_true(node >= 0);
    assert_int_equal(virtio_blk_state_ops.save(f->blk, fdt, node), -EBUSY);
    assert_int_equal(virtio_blk_quiesce(f->blk), 0);
    assert_int_equal(*status_byte(f, 1), VIRTIO_BLK_S_OK);
    /* one more chain made available but never popped */
    r.slot = 2;
    submit(f, &r);
    assert_int_equal(virtio_blk_state_ops.save(f->blk, fdt, node), 0);
    assert_int_equal(fdt_check_full(fdt, sizeof(fdt)), 0);

    /* a new device over the same disk picks up where the old one was */
    assert_int_equal(virtio_blk_create(&f->params, &f->mem, &f->irq, &blk2),
                     0);
    assert_int_equal(virtio_blk_state_ops.load(blk2, fdt, node), 0);
    v2 = virtio_blk_vdev(blk2);
    assert_int_equal(v2->status, v1->status);
    assert_int_equal(v2->driver_features, v1->driver_features);
    assert_int_equal(v2->queues[0].last_avail_idx, 2);
    assert_int_equal(v2->queues[0].used_idx, 2);
    assert_true(v2->queues[0].event_idx);
    assert_int_equal(virtio_blk_resume(blk2), 0);
    assert_int_equal(virtio_blk_quiesce(blk2), 0);
    assert_int_equal(*status_byte(f, 2), VIRTIO_BLK_S_OK);
    virtio_blk_destroy(blk2);
}

static void test_load_rejects_other_config(void **state)
{
    struct fixture *f = *state;
    static char fdt[16384];
    struct req r = { .type = VIRTIO_BLK_T_FLUSH };
    uint32_t seg_max = 8;
    int node;

    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "blk");
    assert_int_equal(virtio_blk_state_ops.save(f->blk, fdt, node), 0);
    assert_int_equal(virtio_blk_state_ops.load(f->blk, fdt, node), 0);
    /* config bytes of another device (seg_max at offset 12) */
    fdt_setprop_inplace_namelen_partial(fdt, node, "blk-config", 10, 12,
                                        &seg_max, 4);
    assert_int_equal(virtio_blk_state_ops.load(f->blk, fdt, node), -EINVAL);
    assert_int_equal(fdt_delprop(fdt, node, "blk-config"), 0);
    assert_int_equal(virtio_blk_state_ops.load(f->blk, fdt, node), -ENOENT);
    assert_int_equal(run(f, &r, NULL), VIRTIO_BLK_S_OK);  /* still works */
}

#define T(fn)   cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TM(fn)  cmocka_unit_test_setup_teardown(fn, setup_message, teardown)
#define TR(fn)  cmocka_unit_test_setup_teardown(fn, setup_ro, teardown)
#define TD(fn)  cmocka_unit_test_setup_teardown(fn, setup_deferred, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_features_and_config),
        T(test_bad_params),
        T(test_read),
        T(test_write),
        T(test_indirect_read),
        T(test_flush),
        T(test_get_id),
        T(test_discard_and_write_zeroes),
        TM(test_discard_and_write_zeroes),
        TR(test_readonly),
        T(test_bad_requests),
        TM(test_bad_requests),
        T(test_bad_dwz),
        T(test_bad_layout),
        T(test_too_many_segments),
        T(test_malformed_chain_needs_reset),
        TM(test_message_read_write),
        TM(test_message_bad_buffer),
        T(test_many_requests),
        TM(test_many_requests),
        T(test_multiqueue),
        TD(test_reset_drops_inflight),
        TD(test_save_load),
        T(test_doorbell_reaps_cached_read),
        T(test_load_rejects_other_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
