/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vrng: ask virtio-rng for 64 bytes twice; the device must fill them
 * (used length 64), and the two draws must differ and not be all zero.
 */
#include "lib/irq.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/virtio.h"
#include "virtio/vtests.h"

static int draw(struct vq *q, uint8_t *buf, uint32_t len)
{
    struct vq_buf b = { buf, len, 1 };
    uint32_t id, got;
    int head = vq_add(q, &b, 1);

    if (head < 0)
        return test_fail("vq_add: %d", head);
    vq_kick(q);
    if (vq_wait_used(q, &id, &got, 1000000) < 0)
        return test_fail("no used entry");
    if (id != (uint32_t)head || got != len)
        return test_fail("used id %u len %u, want %d/%u", id, got, head,
                         len);
    return 0;
}

int test_vrng(void)
{
    struct vdev d;
    struct vq q;
    uint8_t *a = vdma_alloc(64, 64), *b = vdma_alloc(64, 64);
    uint8_t zero[64] = { 0 };
    uint64_t irqs;
    int r = vdev_find(VIRTIO_ID_RNG, 0, &d);

    if (r < 0)
        return test_fail("no virtio-rng device (%d)", r);
    if (vdev_init(&d, 0) < 0 || vdev_msix_enable(&d) < 0)
        return test_fail("device setup failed");
    r = vq_setup(&d, &q, 0, 16, 1, VEC_VRNG);
    if (r < 0)
        return test_fail("queue setup: %d", r);
    vdev_driver_ok(&d);
    /* Each request must raise its interrupt. Wait for one before the next
     * request: two eventfd signals that land before KVM injects the first
     * legitimately coalesce into one MSI. */
    irqs = irq_count(VEC_VRNG);
    if (draw(&q, a, 64) < 0)
        return -1;
    if (irq_wait(VEC_VRNG, irqs + 1, 1000000) < 0)
        return test_fail("no interrupt for request 1");
    if (draw(&q, b, 64) < 0)
        return -1;
    if (irq_wait(VEC_VRNG, irqs + 2, 1000000) < 0)
        return test_fail("no interrupt for request 2");
    if (!memcmp(a, zero, 64) || !memcmp(a, b, 64))
        return test_fail("random bytes look wrong");
    printf("vrng: %02x%02x%02x%02x... %02x%02x%02x%02x...\n", a[0], a[1],
           a[2], a[3], b[0], b[1], b[2], b[3]);
    return 0;
}
