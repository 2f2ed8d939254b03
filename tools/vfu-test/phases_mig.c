/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test migration phase: DMA dirty logging, the v2 state machine over
 * DEVICE_FEATURE, MIG_DATA_READ/WRITE, and a device with a queue in use
 * and requests pending continuing in a second vfu-blk process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_pci.h>

#include "tools/vfu-test/phases_mig.h"
#include "tools/vfu-test/vtest.h"

#define PG 4096u
#define BITMAP_BYTES (TD_MEM_SIZE / PG / 8)

static bool bit(const uint64_t *bm, uint64_t off)
{
    uint64_t b = off / PG;

    return bm[b / 64] & (1ull << (b % 64));
}

static int log_report(struct tc *t, uint64_t *bm)
{
    struct vfio_user_dma_logging_report rq = {
        .iova = IOVA, .length = TD_MEM_SIZE, .page_size = PG};
    size_t n;
    int r;

    r = tc_feature(t, VFIO_DEVICE_FEATURE_GET |
                          VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
                   &rq, sizeof(rq), 8 + sizeof(rq) + BITMAP_BYTES, NULL,
                   sizeof(rq) + BITMAP_BYTES, &n);
    if (r)
        return r;
    if (n != sizeof(rq) + BITMAP_BYTES)
        return -EPROTO;
    memcpy(bm, t->rbuf + 8 + sizeof(rq), BITMAP_BYTES);
    return 0;
}

static void dirty_log(struct env *e, struct dev *a)
{
    uint8_t ctl[32] = {0};
    struct vfio_user_dma_logging_control c = {.page_size = PG,
                                              .num_ranges = 1};
    struct vfio_user_dma_logging_range rg = {IOVA, TD_MEM_SIZE};
    static uint64_t bm[BITMAP_BYTES / 8];
    uint64_t used = a->d.vr.used_gpa - IOVA;
    int r;

    memcpy(ctl, &c, sizeof(c));
    memcpy(ctl + sizeof(c), &rg, sizeof(rg));
    r = tc_feature(&a->tc, VFIO_DEVICE_FEATURE_SET |
                               VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
                   ctl, sizeof(ctl), 8 + sizeof(ctl), NULL, sizeof(ctl),
                   NULL);
    check(e, !r, "DMA_LOGGING_START");
    r = tdrv_transfer(&a->d, false, 0, IOVA + TD_IN, 1u << 20, 256 * 1024,
                      false);
    check(e, !r, "1 MiB read into guest memory while logging");
    r = log_report(&a->tc, bm);
    check(e, !r && bit(bm, TD_IN) && bit(bm, TD_IN + (1u << 20) - PG) &&
                 bit(bm, used) && !bit(bm, TD_OUT) &&
                 !bit(bm, TD_IN + (2u << 20)),
          "DMA_LOGGING_REPORT: written pages dirty, others clean");
    r = log_report(&a->tc, bm);
    check(e, !r && !bit(bm, TD_IN), "DMA_LOGGING_REPORT clears what it "
                                    "reported");
    r = tc_feature(&a->tc, VFIO_DEVICE_FEATURE_SET |
                               VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
                   NULL, 0, 8, NULL, 0, NULL);
    check(e, !r, "DMA_LOGGING_STOP");
}

/* The pre-copy part, then the STOP_COPY stream: one stream, as the
 * destination must get it. */
static int join(uint8_t *pre, size_t n, uint8_t **buf, size_t *len)
{
    uint8_t *all = malloc(n + *len);

    if (!all)
        return -ENOMEM;
    memcpy(all, pre, n);
    if (*len)
        memcpy(all + n, *buf, *len);
    free(*buf);
    *buf = all;
    *len += n;
    return 0;
}

/* Source side: PRE_COPY (vfu-blk's identity as pre-copy data), STOP_COPY
 * (the state), STOP. */
static int save_state(struct env *e, struct dev *a, uint8_t **buf,
                      size_t *len)
{
    struct vfio_user_device_feature_migration mf;
    uint32_t st = 0;
    uint8_t *pre = NULL;
    size_t n = 0;
    int r;

    r = tc_feature(&a->tc, VFIO_DEVICE_FEATURE_GET |
                               VFIO_DEVICE_FEATURE_MIGRATION,
                   NULL, 0, 16, &mf, sizeof(mf), &n);
    check(e, !r && (mf.flags & VFIO_MIGRATION_STOP_COPY),
          "VFIO_DEVICE_FEATURE_MIGRATION: STOP_COPY supported");
    r = tc_mig_state(&a->tc, NULL, VFIO_DEVICE_STATE_PRE_COPY);
    if (!r)
        r = tc_mig_read_all(&a->tc, &pre, &n);
    check(e, !r && n > 0, "PRE_COPY: pre-copy data (device identity)");
    if (!r)
        r = tc_mig_state(&a->tc, NULL, VFIO_DEVICE_STATE_STOP_COPY);
    if (!r)
        r = tc_mig_read_all(&a->tc, buf, len);
    check(e, !r && *len > 0, "STOP_COPY: device state read with "
                             "MIG_DATA_READ");
    if (!r)
        r = join(pre, n, buf, len);
    free(pre);
    if (!r)
        r = tc_mig_state(&a->tc, NULL, VFIO_DEVICE_STATE_STOP);
    if (!r)
        r = tc_mig_state(&a->tc, &st, 0);
    check(e, !r && st == VFIO_DEVICE_STATE_STOP, "source now STOP");
    check(e, tc_mig_state(&a->tc, NULL, VFIO_DEVICE_STATE_ERROR) == -EINVAL,
          "ERROR cannot be requested");
    return r;
}

/* Destination: RESUMING (from RUNNING, two arcs), data, RUNNING. */
static int load_state(struct env *e, struct dev *b, const uint8_t *buf,
                      size_t len)
{
    uint32_t st = 0;
    int r;

    r = tc_mig_state(&b->tc, NULL, VFIO_DEVICE_STATE_RESUMING);
    if (!r)
        r = tc_mig_write_all(&b->tc, buf, len);
    check(e, !r, "RESUMING: state written with MIG_DATA_WRITE");
    if (!r)
        r = tc_mig_state(&b->tc, NULL, VFIO_DEVICE_STATE_RUNNING);
    if (!r)
        r = tc_mig_state(&b->tc, &st, 0);
    check(e, !r && st == VFIO_DEVICE_STATE_RUNNING,
          "destination RESUMING -> RUNNING (state loaded)");
    return r;
}

static int start_dest(struct env *e, struct dev *a, struct dev *b)
{
    int r;

    memcpy(b->disk, a->disk, sizeof(b->disk));
    r = start(e, &b->p, "b", b->disk);
    if (!r)
        r = tc_connect(&b->tc, b->p.sock, true, e->mem, IOVA, TD_MEM_SIZE);
    if (!r)
        r = tc_dma_map(&b->tc, IOVA, TD_MEM_SIZE, e->memfd, 0);
    b->d = a->d; /* the "guest": its rings stay where they are */
    a->d.irq[0] = a->d.irq[1] = a->d.ioev = -1;
    if (!r)
        r = tdrv_rebind(&b->d, &b->tc);
    check(e, !r, "second vfu-blk: connected, memory mapped, IRQs set");
    return r;
}

void phase_migrate(struct env *e, struct dev *a)
{
    struct dev b;
    uint8_t *state = NULL;
    size_t len = 0;
    int r;

    memset(&b, 0, sizeof(b));
    if (a->p.pid <= 0)
        return check(e, false, "migration: no source device");
    fill(e->mem + TD_OUT, TD_BUF_SIZE, 1); /* what phase_fd wrote */
    dirty_log(e, a);
    /* In-flight state: two requests made available, never kicked. */
    memset(e->mem + TD_IN, 0, 2u << 20);
    r = tdrv_submit(&a->d, VIRTIO_BLK_T_IN, 2048, IOVA + TD_IN, 65536);
    if (!r)
        r = tdrv_submit(&a->d, VIRTIO_BLK_T_IN, 2048 + 128,
                        IOVA + TD_IN + 65536, 65536);
    check(e, !r, "two requests pending in the avail ring");
    if (r || save_state(e, a, &state, &len) || start_dest(e, a, &b) ||
        load_state(e, &b, state, len))
        goto out;
    r = tdrv_wait(&b.d, 2);
    check(e, !r && !memcmp(e->mem + TD_IN, e->mem + TD_OUT + (1u << 20),
                           131072),
          "pending requests completed by the destination");
    check(e, tc_rd(&b.tc, 2, VIRTIO_PCI_COMMON_STATUS, 1) == 0x0f &&
                 tc_rd(&b.tc, 2, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1 &&
                 tc_rd(&b.tc, 2, VIRTIO_PCI_COMMON_Q_MSIX, 2) == 1,
          "destination registers: DRIVER_OK, queue enabled, vector 1");
    memset(e->mem + TD_IN, 0, TD_BUF_SIZE);
    r = tdrv_transfer(&b.d, false, 0, IOVA + TD_IN, TD_BUF_SIZE, 512 * 1024,
                      true);
    check(e, !r && !memcmp(e->mem + TD_IN, e->mem + TD_OUT, TD_BUF_SIZE),
          "virtqueue continues on the destination (4 MiB read back)");
    check(e, counter(&b.p, "requests") >= 10,
          "destination counters show the requests");
out:
    free(state);
    tdrv_close(&b.d);
    tc_close(&b.tc);
    if (b.p.pid > 0)
        check(e, stop(&b.p) == 0, "destination vfu-blk exits 0");
    tdrv_close(&a->d);
    tc_close(&a->tc);
    check(e, stop(&a->p) == 0, "source vfu-blk exits 0");
}
