/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vblk: write 8 sectors with a pattern through virtio-blk, read them back,
 * compare, fetch the serial (GET_ID); completions must raise the queue's
 * MSI-X vector. The host script checks the pattern landed in the file.
 * vblk-mask: a completion on a masked vector sets its PBA bit instead of
 * interrupting, and fires once unmasked.
 */
#include "lib/errno.h"
#include "lib/irq.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/virtio.h"
#include "virtio/vblk.h"
#include "virtio/vtests.h"

#define NSECT 8

static uint8_t pattern(unsigned int i)
{
    return (uint8_t)(i * 13 + (i >> 9) + 0x5A);
}

/* Fill a 4 KiB buffer: a text header per sector, then the pattern. */
static void fill(uint8_t *buf)
{
    for (unsigned int i = 0; i < NSECT * 512; i++)
        buf[i] = pattern(i);
    for (unsigned int s = 0; s < NSECT; s++)
        snprintf((char *)buf + s * 512, 32, "MINIVMM-VBLK sector %u\n", s);
}

int test_vblk(void)
{
    struct vblk b;
    uint8_t *wbuf = vdma_alloc(NSECT * 512, 4096);
    uint8_t *rbuf = vdma_alloc(NSECT * 512, 4096);
    char *id = vdma_alloc(32, 64);
    uint64_t irqs;
    int st;

    if (vblk_open(&b, VEC_VBLK) < 0)
        return -1;
    printf("vblk: capacity %lu sectors, features %#lx\n", b.capacity,
           b.dev.features);
    if (b.capacity < NSECT)
        return test_fail("disk too small: %lu sectors", b.capacity);
    fill(wbuf);
    irqs = irq_count(VEC_VBLK);
    st = vblk_rw(&b, VBLK_T_OUT, 0, wbuf, NSECT * 512);
    if (st != 0)
        return test_fail("write: status %d", st);
    if (irq_wait(VEC_VBLK, irqs + 1, 1000000) < 0)
        return test_fail("no MSI-X interrupt for the write");
    st = vblk_rw(&b, VBLK_T_IN, 0, rbuf, NSECT * 512);
    if (st != 0)
        return test_fail("read: status %d", st);
    if (memcmp(wbuf, rbuf, NSECT * 512))
        return test_fail("read back differs from what was written");
    st = vblk_rw(&b, VBLK_T_GET_ID, 0, id, 20);
    if (st != 0)
        return test_fail("get-id: status %d", st);
    printf("vblk: serial '%s', %lu interrupts\n", id,
           irq_count(VEC_VBLK) - irqs);
    return 0;
}

int test_vblk_mask(void)
{
    struct vblk b;
    uint8_t *buf = vdma_alloc(512, 4096);
    uint64_t irqs;
    int st;

    if (vblk_open(&b, VEC_VBLK) < 0)
        return -1;
    vdev_msix_set(&b.dev, 1, VEC_VBLK, 1);     /* mask the queue vector */
    irqs = irq_count(VEC_VBLK);
    st = vblk_rw(&b, VBLK_T_IN, 0, buf, 512);
    if (st != 0)
        return test_fail("read: status %d", st);
    if (irq_wait(VEC_VBLK, irqs + 1, 20000) == 0)
        return test_fail("interrupt delivered while masked");
    if (!vdev_msix_pending(&b.dev, 1))
        return test_fail("PBA bit not set for the masked vector");
    vdev_msix_set(&b.dev, 1, VEC_VBLK, 0);
    if (irq_wait(VEC_VBLK, irqs + 1, 1000000) < 0)
        return test_fail("no interrupt after unmasking");
    if (vdev_msix_pending(&b.dev, 1))
        return test_fail("PBA bit still set after delivery");
    return 0;
}
