/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vblk-iocount (only when named): a steady, silent stream of guest I/Os
 * for counting what one I/O costs (tests/integration/payload_iocount.sh,
 * bench/bench_iocount.sh; issue 16). Prints "iocount: start" and then
 * nothing while it does 4 KiB random reads at queue depth 1, each with
 * one doorbell (vq_kick) and completed by its MSI-X interrupt (irq_wait:
 * the interrupt is what the guest waits for, so the completion path is
 * the one measured), for io-secs seconds (default 120) or until the host
 * stops the VM. The host reads its counters twice while the stream runs
 * and divides by the device's request count. With poll=1 the used ring
 * is polled instead (the interrupt still comes). Ends with
 * "iocount: done N" (N I/Os) when the time is up.
 */
#include "lib/bootinfo.h"
#include "lib/irq.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "virtio/vtests.h"

#define BLK 4096u

/* One read of block @blk, completed by its interrupt: 0 or -1. */
static int one_read(struct vblk *b, void *buf, uint64_t blk, int poll)
{
    uint64_t irqs = irq_count(VEC_VBLK);
    uint32_t id, len;
    int head = vblk_submit(b, VBLK_T_IN, blk * (BLK / 512), buf, BLK);

    if (head < 0)
        return test_fail("submit: %d", head);
    vq_kick(&b->q);
    /* 10 s: a lost interrupt still fails; a host too loaded to run
     * vfu-blk for 2 s (seen once at load 8) does not. */
    if (!poll && irq_wait(VEC_VBLK, irqs + 1, 10000000) < 0)
        return test_fail("no interrupt for read of block %lu", blk);
    if (vq_wait_used(&b->q, &id, &len, 10000000) < 0)
        return test_fail("read of block %lu never completed", blk);
    if (id != (uint32_t)head || b->reqs[head].status != 0)
        return test_fail("read of block %lu: status %u", blk,
                         b->reqs[head].status);
    return 0;
}

int test_vblk_iocount(void)
{
    uint64_t secs = 120, poll = 0, n = 0, x = 0x9E3779B97F4A7C15ULL, end;
    struct vblk b;
    void *buf;

    cmdline_get_u64("io-secs", &secs);
    cmdline_get_u64("poll", &poll);
    if (vblk_open(&b, VEC_VBLK) < 0)
        return -1;
    if (b.capacity < 2 * (BLK / 512))
        return test_fail("disk too small");
    buf = vdma_alloc(BLK, 4096);
    printf("iocount: start\n");
    end = time_us() + secs * 1000000;
    while (time_us() < end) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (one_read(&b, buf, x % (b.capacity / (BLK / 512)), (int)poll))
            return -1;
        n++;
    }
    printf("iocount: done %lu\n", n);
    return 0;
}
