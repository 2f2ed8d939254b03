/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vblk-count (only when named): count in RAM and do virtio-blk I/O at the
 * same time, for live-migration tests. Like test=counter (tests/guest/
 * tests/test_counter.c) it prints "counter: tick T value V" every tick_ms
 * (default 100); between ticks it writes 4 KiB blocks round-robin over the
 * first blocks=N (default 64) blocks of the disk, write number W filling
 * block W % N with bytes derived from W, and reads each block back at
 * once. After ticks=N ticks it reads every block, checks each holds its
 * last write, prints "vblk-count: W writes, N blocks verified" and
 * passes. Everything lives in guest RAM, so a migrated or restored guest
 * goes on where it was: its first line shows the next tick. With
 * viommu=1 the disk is confined to a virtio-iommu domain first and its
 * data buffers are given at far IOVAs (test_viommu.c, viommu_confine()),
 * so a restored or migrated VM needs its mappings replayed. vtd=1 does
 * the same through the VT-d unit (--viommu intel; test_vtd.c,
 * vtd_confine()).
 */
#include "lib/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "virtio/vtests.h"

#define BLK 4096u

static volatile uint64_t tick, counter, writes;
static struct vblk dev;
static uint8_t *wbuf, *rbuf;
static void *wdma, *rdma;   /* what the device is given (IOVAs: viommu=1) */

static void fill(uint8_t *buf, uint64_t w)
{
    uint64_t x = w * 0x9E3779B97F4A7C15ULL + 1;

    for (unsigned int i = 0; i < BLK; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
    snprintf((char *)buf, 48, "MVMBLK write %lu\n", w);
}

/* Write number @w and read it back. */
static int one_write(uint64_t w, uint64_t nblocks)
{
    uint64_t sector = (w % nblocks) * (BLK / 512);
    int st;

    fill(wbuf, w);
    st = vblk_rw(&dev, VBLK_T_OUT, sector, wdma, BLK);
    if (st != 0)
        return test_fail("write %lu: status %d", w, st);
    st = vblk_rw(&dev, VBLK_T_IN, sector, rdma, BLK);
    if (st != 0)
        return test_fail("read %lu: status %d", w, st);
    if (memcmp(wbuf, rbuf, BLK))
        return test_fail("block of write %lu reads back differently", w);
    return 0;
}

static int verify_all(uint64_t nblocks)
{
    uint64_t n = writes < nblocks ? writes : nblocks;

    for (uint64_t k = 0; k < n; k++) {
        uint64_t w = writes - 1 - ((writes - 1 - k) % nblocks);

        fill(wbuf, w);
        if (vblk_rw(&dev, VBLK_T_IN, k * (BLK / 512), rdma, BLK) != 0)
            return test_fail("final read of block %lu", k);
        if (memcmp(wbuf, rbuf, BLK))
            return test_fail("block %lu does not hold write %lu", k, w);
    }
    printf("vblk-count: %lu writes, %lu blocks verified\n", writes, n);
    return 0;
}

int test_vblk_count(void)
{
    uint64_t period_ms = 100, limit = 0, nblocks = 64, next, viommu = 0;
    uint64_t vtd = 0;

    if (tick == 0) {
        wdma = wbuf = vdma_alloc(BLK, 4096);
        rdma = rbuf = vdma_alloc(BLK, 4096);
        cmdline_get_u64("viommu", &viommu);
        cmdline_get_u64("vtd", &vtd);
        /* Behind VT-d the driver accepts VIRTIO_F_ACCESS_PLATFORM. */
        if (vblk_open_feat(&dev, 0, VEC_VBLK, vtd ? 1ULL << 33 : 0) < 0)
            return -1;
        if (viommu && viommu_confine(&dev, wbuf, rbuf, &wdma, &rdma) < 0)
            return -1;
        if (vtd && vtd_confine(&dev, wbuf, rbuf, &wdma, &rdma) < 0)
            return -1;
    }
    cmdline_get_u64("tick_ms", &period_ms);
    cmdline_get_u64("ticks", &limit);
    cmdline_get_u64("blocks", &nblocks);
    if (!nblocks || nblocks * (BLK / 512) > dev.capacity)
        return test_fail("blocks=%lu does not fit the disk", nblocks);
    printf("counter: start at tick %lu value %lu\n", tick, counter);
    next = time_us() + (period_ms ? period_ms : 1) * 1000;
    while (!limit || tick < limit) {
        for (unsigned int i = 0; i < 4096; i++)
            counter = counter + 1;
        if (one_write(writes, nblocks) < 0)
            return -1;
        writes = writes + 1;
        if (time_us() < next)
            continue;
        tick = tick + 1;
        printf("counter: tick %lu value %lu writes %lu\n", tick, counter,
               writes);
        next = time_us() + (period_ms ? period_ms : 1) * 1000;
    }
    return verify_all(nblocks);
}
