/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfio-two: two vfu-blk devices at once; each gets its own text in sector
 * 0 and sector 1, read back and compared (the host checks the files).
 * vfio-survive: I/O in a loop on device 0 while the host kills (and, with
 * vfio-recover=1, restarts) its server: requests to a dead device fail and
 * its registers read all-ones, the guest keeps running; with recovery the
 * driver resets and sets the device up again and I/O works once more.
 * Prints "vfio-survive: ok N failed M recovered R".
 */
#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/io.h"
#include "lib/irq.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "vfio/vfio_tests.h"

static int one_dev(struct vblk *b, unsigned int nth, uint8_t vec)
{
    uint8_t *w = vdma_alloc(1024, 4096), *r = vdma_alloc(1024, 4096);
    uint64_t irqs;
    int st;

    if (vblk_open_nth(b, nth, vec) < 0)
        return -1;
    memset(w, 0, 1024);
    snprintf((char *)w, 64, "VFIO-DEV%u sector 0\n", nth);
    snprintf((char *)w + 512, 64, "VFIO-DEV%u sector 1\n", nth);
    irqs = irq_count(vec);
    st = vblk_rw(b, VBLK_T_OUT, 0, w, 1024);
    if (st != 0)
        return test_fail("dev %u: write status %d", nth, st);
    if (irq_wait(vec, irqs + 1, 1000000) < 0)
        return test_fail("dev %u: no interrupt", nth);
    st = vblk_rw(b, VBLK_T_IN, 0, r, 1024);
    if (st != 0 || memcmp(w, r, 1024))
        return test_fail("dev %u: read back failed (%d)", nth, st);
    return 0;
}

int test_vfio_two(void)
{
    struct vblk a, b;

    if (one_dev(&a, 0, VEC_VFIO0) < 0 || one_dev(&b, 1, VEC_VFIO1) < 0)
        return -1;
    if (a.dev.common == b.dev.common)
        return test_fail("both devices at the same BAR");
    printf("vfio-two: devices at %#lx and %#lx\n", a.dev.common,
           b.dev.common);
    return 0;
}

int test_vfio_survive(void)
{
    struct vblk b;
    uint8_t *buf = vdma_alloc(4096, 4096);
    uint64_t secs = 10, recover = 0, end, ok = 0, failed = 0, rec = 0;
    int dead = 0;

    cmdline_get_u64("vfio-secs", &secs);
    cmdline_get_u64("vfio-recover", &recover);
    if (vblk_open(&b, VEC_VFIO0) < 0)
        return -1;
    printf("vfio-survive: running I/O for %lu s\n", secs);
    end = time_us() + secs * 1000000;
    while (time_us() < end) {
        if (!dead && vblk_rw(&b, VBLK_T_IN, ok % 64, buf, 4096) == 0) {
            ok++;
            continue;
        }
        if (!dead) {
            failed++;
            dead = 1;
            printf("vfio-survive: I/O failed after %lu requests; status "
                   "reads %#x\n", ok, vdev_status(&b.dev));
        }
        if (!recover) {
            delay_us(100000);
            continue;
        }
        delay_us(200000);
        if (vdev_status(&b.dev) == 0xFF)
            continue; /* still dead: all-ones */
        if (vblk_open(&b, VEC_VFIO0) == 0) {
            dead = 0;
            rec++;
            printf("vfio-survive: device back, driver set it up again\n");
        }
    }
    printf("vfio-survive: ok %lu failed %lu recovered %lu\n", ok, failed,
           rec);
    if (recover && (dead || !rec))
        return test_fail("device did not come back");
    return 0;
}
