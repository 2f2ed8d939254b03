/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-vfio: costs on a vfio-user device (vfu-blk), from the guest:
 *   a doorbell write to the queue notify address (a KVM ioeventfd: no exit
 *     to minivmm) vs a write to a trapped register (queue_select: a vCPU
 *     exit and a REGION_WRITE to the server) and a trapped read (a
 *     REGION_READ round trip);
 *   interrupt delivery: requests completed one at a time, each waiting for
 *     its MSI-X interrupt (server eventfd -> KVM irqfd).
 * Prints "BENCH name value unit" lines; no pass/fail beyond errors.
 */
#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/io.h"
#include "lib/irq.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "vfio/vfio_tests.h"

#define COMMON_Q_SELECT 22
#define COMMON_STATUS   20

static uint64_t ns_per(uint64_t t0, uint64_t n)
{
    return (time_us() - t0) * 1000 / n;
}

int bench_vfio(void)
{
    struct vblk b;
    uint8_t *buf = vdma_alloc(4096, 4096);
    uint64_t n = 20000, t0, irqs, done = 0, v = 0;

    cmdline_get_u64("bench-n", &n);
    if (vblk_open(&b, VEC_VFIO0) < 0)
        return -1;
    t0 = time_us();
    for (uint64_t i = 0; i < n; i++)
        mmio_write16(b.q.notify_addr, 1); /* queue 1 does not exist */
    printf("BENCH vfio-doorbell-ioeventfd %lu ns\n", ns_per(t0, n));
    t0 = time_us();
    for (uint64_t i = 0; i < n; i++)
        mmio_write16(b.dev.common + COMMON_Q_SELECT, 0);
    printf("BENCH vfio-doorbell-trapped-write %lu ns\n", ns_per(t0, n));
    t0 = time_us();
    for (uint64_t i = 0; i < n; i++)
        v += mmio_read8(b.dev.common + COMMON_STATUS);
    printf("BENCH vfio-trapped-read-roundtrip %lu ns\n", ns_per(t0, n));
    irqs = irq_count(VEC_VFIO0);
    t0 = time_us();
    while (time_us() - t0 < 1000000) {
        if (vblk_rw(&b, VBLK_T_IN, done % 256, buf, 512) != 0)
            return test_fail("read failed");
        if (irq_wait(VEC_VFIO0, irqs + done + 1, 1000000) < 0)
            return test_fail("no interrupt for request %lu", done);
        done++;
    }
    printf("BENCH vfio-irq-completions %lu per s\n",
           done * 1000000 / (time_us() - t0));
    return v == 0xFFFFFFFF ? -1 : 0;
}
