/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vblk-hold (only when named): fill hold_kb KiB (default 1024) of DMA
 * memory once, at the start, then write it to the first hold_kb KiB of the
 * disk over and over, 4 KiB per request, never touching it again. Block k
 * holds "MVMHOLD block k\n" and then bytes (k * 7 + i) & 0xff at offset
 * i. pad_mb=N (default 0) first fills N MiB of DMA memory below the
 * buffers with non-zero bytes, so a loader going through RAM in order
 * reaches the buffers late. Prints "vblk-hold: N blocks ready" once
 * and "counter: tick T passes P" every tick_ms (default 100). For
 * on-demand restore with a vfio-user disk
 * (tests/integration/payload_snapshot_ondemand.sh): after a restore
 * the device's first reads are of pages last written before the snapshot.
 */
#include "lib/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "virtio/vtests.h"

#define BLK 4096u

static volatile uint64_t tick, passes;
static struct vblk dev;
static uint8_t *hold;
static uint64_t nblocks;

static void fill(void)
{
    for (uint64_t k = 0; k < nblocks; k++) {
        uint8_t *b = hold + k * BLK;

        for (unsigned int i = 0; i < BLK; i++)
            b[i] = (uint8_t)((k * 7 + i) & 0xff);
        snprintf((char *)b, 32, "MVMHOLD block %lu\n", k);
    }
}

int test_vblk_hold(void)
{
    uint64_t period_ms = 100, kb = 1024, pad_mb = 0, next;

    cmdline_get_u64("tick_ms", &period_ms);
    cmdline_get_u64("hold_kb", &kb);
    cmdline_get_u64("pad_mb", &pad_mb);
    nblocks = kb / 4;
    if (vblk_open(&dev, VEC_VBLK) < 0)
        return -1;
    if (!nblocks || nblocks * (BLK / 512) > dev.capacity)
        return test_fail("hold_kb=%lu does not fit the disk", kb);
    if (pad_mb) {
        uint64_t *pad = vdma_alloc(pad_mb << 20, 4096);

        for (uint64_t i = 0; i < (pad_mb << 20) / 8; i++)
            pad[i] = i * 0x9E3779B97F4A7C15ULL + 1;
    }
    hold = vdma_alloc(nblocks * BLK, 4096);
    fill();
    printf("vblk-hold: %lu blocks ready\n", nblocks);
    next = time_us() + (period_ms ? period_ms : 1) * 1000;
    for (;;) {
        for (uint64_t k = 0; k < nblocks; k++) {
            int st = vblk_rw(&dev, VBLK_T_OUT, k * (BLK / 512),
                             hold + k * BLK, BLK);

            if (st != 0)
                return test_fail("write of block %lu: status %d", k, st);
        }
        passes = passes + 1;
        if (time_us() < next)
            continue;
        tick = tick + 1;
        printf("counter: tick %lu passes %lu\n", tick, passes);
        next = time_us() + (period_ms ? period_ms : 1) * 1000;
    }
}
