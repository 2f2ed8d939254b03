/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-vblk: virtio-blk throughput from the guest, polling the used ring
 * (VRING_AVAIL_F_NO_INTERRUPT: no interrupt per completion), for about
 * bench-secs seconds (default 2) each:
 *   4 KiB random reads at queue depth 1   → IOPS
 *   4 KiB random reads at queue depth 32  → IOPS
 *   128 KiB sequential reads at depth 8   → MB/s
 * Prints "BENCH name value unit" lines; no pass/fail beyond errors.
 * bench-rows=MASK runs only some rows (bit 0 QD1, bit 1 QD32, bit 2
 * sequential; default 7).
 */
#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "virtio/vtests.h"

#define MAX_QD 32

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Run @qd requests of @bs bytes in flight for @secs; sequential or
 * random offsets within the disk. Returns completed requests, -errno. */
static int64_t run(struct vblk *b, void *bufs[], unsigned int qd,
                   uint32_t bs, int random, uint64_t secs)
{
    uint64_t sectors = b->capacity - bs / 512, next = 0, done = 0;
    uint64_t end = time_us() + secs * 1000000;
    uint32_t id, len;

    for (unsigned int i = 0; i < qd; i++) {
        uint64_t s = random ? next_rand() % sectors & ~7ULL : next;

        next = (next + bs / 512) % sectors;
        if (vblk_submit(b, VBLK_T_IN, s, bufs[i], bs) < 0)
            return -ENOSPC;
    }
    vq_kick(&b->q);
    while (time_us() < end) {
        if (vq_wait_used(&b->q, &id, &len, 2000000) < 0)
            return -ETIMEDOUT;
        if (b->reqs[id].status != 0)
            return -EIO;
        done++;
        uint64_t s = random ? next_rand() % sectors & ~7ULL : next;

        next = (next + bs / 512) % sectors;
        vblk_submit(b, VBLK_T_IN, s, bufs[done % qd], bs);
        vq_kick(&b->q);
    }
    while (b->q.num_free < b->q.size)   /* drain */
        if (vq_wait_used(&b->q, &id, &len, 2000000) < 0)
            return -ETIMEDOUT;
    return (int64_t)done;
}

int bench_vblk(void)
{
    struct vblk b;
    void *bufs[MAX_QD];
    uint64_t secs = 2, rows = 7;
    int64_t n;

    cmdline_get_u64("bench-secs", &secs);
    cmdline_get_u64("bench-rows", &rows);
    if (vblk_open(&b, VEC_VBLK) < 0)
        return -1;
    b.q.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
    if (b.capacity < 2048)
        return test_fail("disk too small for the benchmark");
    for (unsigned int i = 0; i < MAX_QD; i++)
        bufs[i] = vdma_alloc(128 << 10, 4096);
    n = rows & 1 ? run(&b, bufs, 1, 4096, 1, secs) : 0;
    if (n < 0)
        return test_fail("random reads at depth 1: %ld", n);
    if (rows & 1)
        printf("BENCH vblk-randread-4k-qd1 %lu IOPS\n", (uint64_t)n / secs);
    n = rows & 2 ? run(&b, bufs, 32, 4096, 1, secs) : 0;
    if (n < 0)
        return test_fail("random reads: %ld", n);
    if (rows & 2)
        printf("BENCH vblk-randread-4k-qd32 %lu IOPS\n",
               (uint64_t)n / secs);
    n = rows & 4 ? run(&b, bufs, 8, 128 << 10, 0, secs) : 0;
    if (n < 0)
        return test_fail("sequential reads: %ld", n);
    if (rows & 4)
        printf("BENCH vblk-seqread-128k-qd8 %lu MB/s\n",
               (uint64_t)n * (128 << 10) / secs / 1000000);
    return 0;
}
