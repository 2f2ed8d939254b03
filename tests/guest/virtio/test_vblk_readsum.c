/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vblk-readsum (only when named): for live-migration tests of device
 * writes into guest RAM. Prints "counter: tick T value V" every tick_ms
 * (default 100) like test=counter. Between ticks it writes one 4 KiB block
 * in the second half of the disk (write W fills block half + W % half)
 * and, while read slots are left (slots=N, default 1024, at most 1024),
 * reads block R % blocks (default 512) of the first half, which the host
 * filled, into slot R. Slots are written once and only by the device
 * (DMA into guest RAM; the vCPU never stores to them), so a device write
 * lost by a live migration is never repaired afterwards. At the end
 * (ticks=N) it prints "vblk-readsum: R reads, sum S" (FNV-1a 64 over the
 * filled slots), reads each slot's block again into a scratch buffer,
 * prints "vblk-readsum: expected E" (the same hash over those fresh
 * reads) and passes only if every slot matches.
 * fill=M (MiB, default 0) puts M MiB of non-zero data after the slots and
 * churn=P (default 0) has the vCPU store into P pages of it per step
 * (round robin), so that pre-copy runs several passes while the device
 * keeps writing.
 */
#include "lib/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "virtio/vtests.h"

#define BLK 4096u
#define MAX_SLOTS 1024u

static volatile uint64_t tick, counter, reads, writes;
static struct vblk rdev;
static uint8_t *slots, *wbuf, *scratch, *fillp;
static uint64_t fill_pages, churn, churn_next;

static uint64_t fnv(uint64_t h, const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int one_step(uint64_t nslots, uint64_t nblocks, uint64_t half)
{
    int st;

    memset(wbuf, (int)(writes & 0xFF), BLK);
    st = vblk_rw(&rdev, VBLK_T_OUT, (half + writes % half) * (BLK / 512),
                 wbuf, BLK);
    if (st != 0)
        return test_fail("write %lu: status %d", writes, st);
    writes = writes + 1;
    if (reads >= nslots)
        return 0;
    st = vblk_rw(&rdev, VBLK_T_IN, reads % nblocks * (BLK / 512),
                 slots + reads * BLK, BLK);
    if (st != 0)
        return test_fail("read %lu: status %d", reads, st);
    reads = reads + 1;
    return 0;
}

static int verify(uint64_t nblocks)
{
    uint64_t sum = 0xcbf29ce484222325ULL, want = sum, bad = 0;

    sum = fnv(sum, slots, reads * BLK);
    printf("vblk-readsum: %lu reads, sum %lx\n", reads, sum);
    for (uint64_t s = 0; s < reads; s++) {
        if (vblk_rw(&rdev, VBLK_T_IN, s % nblocks * (BLK / 512), scratch,
                    BLK) != 0)
            return test_fail("final read of block %lu", s % nblocks);
        want = fnv(want, scratch, BLK);
        if (memcmp(scratch, slots + s * BLK, BLK) && bad++ < 8)
            printf("vblk-readsum: slot %lu does not hold block %lu\n", s,
                   s % nblocks);
    }
    printf("vblk-readsum: expected %lx\n", want);
    if (bad)
        return test_fail("%lu of %lu slots stale", bad, reads);
    return 0;
}

int test_vblk_readsum(void)
{
    uint64_t period_ms = 100, limit = 0, nblocks = 512, nslots = 1024, half;
    uint64_t next;

    if (tick == 0) {
        uint64_t fill = 0;
        uint8_t *f;

        slots = vdma_alloc(MAX_SLOTS * BLK, 4096);
        wbuf = vdma_alloc(BLK, 4096);
        scratch = vdma_alloc(BLK, 4096);
        if (vblk_open(&rdev, VEC_VBLK) < 0)
            return -1;
        cmdline_get_u64("fill", &fill);
        f = fill ? vdma_alloc(fill << 20, 4096) : 0;
        if (fill && !f)
            return test_fail("fill=%lu MiB does not fit", fill);
        if (f)
            memset(f, 0x5A, fill << 20);
        fillp = f;
        fill_pages = fill << 8;
        cmdline_get_u64("churn", &churn);
    }
    cmdline_get_u64("tick_ms", &period_ms);
    cmdline_get_u64("ticks", &limit);
    cmdline_get_u64("blocks", &nblocks);
    cmdline_get_u64("slots", &nslots);
    half = rdev.capacity / (BLK / 512) / 2;
    if (!nslots || nslots > MAX_SLOTS || !nblocks || nblocks > half)
        return test_fail("slots=%lu blocks=%lu do not fit (half %lu)",
                         nslots, nblocks, half);
    printf("counter: start at tick %lu value %lu\n", tick, counter);
    next = time_us() + (period_ms ? period_ms : 1) * 1000;
    while (!limit || tick < limit) {
        for (unsigned int i = 0; i < 4096; i++)
            counter = counter + 1;
        if (one_step(nslots, nblocks, half) < 0)
            return -1;
        for (uint64_t i = 0; fill_pages && i < churn; i++) {
            fillp[(churn_next % fill_pages) * BLK] = (uint8_t)reads;
            churn_next++;
        }
        if (time_us() < next)
            continue;
        tick = tick + 1;
        printf("counter: tick %lu value %lu reads %lu\n", tick, counter,
               reads);
        next = time_us() + (period_ms ? period_ms : 1) * 1000;
    }
    return verify(nblocks);
}
