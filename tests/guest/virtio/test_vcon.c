/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vcon: virtio-console port 0. Transmit a line (the host script finds it on
 * stdout), write one byte through emerg_wr, then post a receive buffer and
 * wait for the line the host script feeds on stdin ("vcon-in=TEXT" on the
 * command line says what to expect; without it reception is not tested).
 */
#include "lib/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/io.h"
#include "lib/virtio.h"
#include "virtio/vtests.h"

#define VCON_F_EMERG_WRITE 2
#define VCON_EMERG_WR      8

static int send(struct vq *tx, const char *s)
{
    uint32_t len = (uint32_t)strlen(s), id, got;
    char *buf = vdma_alloc(len, 16);
    struct vq_buf b = { buf, len, 0 };

    memcpy(buf, s, len);
    if (vq_add(tx, &b, 1) < 0)
        return test_fail("tx queue full");
    vq_kick(tx);
    if (vq_wait_used(tx, &id, &got, 1000000) < 0)
        return test_fail("tx not completed");
    return 0;
}

/* Collect input until @want (or a newline) arrived. */
static int receive(struct vq *rx, const char *want)
{
    char *buf = vdma_alloc(256, 64), line[128];
    struct vq_buf b = { buf, 256, 1 };
    unsigned int have = 0;
    uint32_t id, got;

    while (have < strlen(want)) {
        if (vq_add(rx, &b, 1) < 0)
            return test_fail("rx queue full");
        vq_kick(rx);
        if (vq_wait_used(rx, &id, &got, 5000000) < 0)
            return test_fail("no input after %u bytes", have);
        if (got > sizeof(line) - 1 - have)
            got = sizeof(line) - 1 - have;
        memcpy(line + have, buf, got);
        have += got;
    }
    line[have] = 0;
    printf("vcon: received '%s'\n", line);
    if (strncmp(line, want, strlen(want)))
        return test_fail("received '%s', want '%s'", line, want);
    return 0;
}

int test_vcon(void)
{
    struct vdev d;
    struct vq rx, tx;
    char want[64];
    int r = vdev_find(VIRTIO_ID_CONSOLE, 0, &d);

    if (r < 0)
        return test_fail("no virtio-console device (%d)", r);
    if (vdev_init(&d, 1ULL << VCON_F_EMERG_WRITE) < 0 ||
        vdev_msix_enable(&d) < 0)
        return test_fail("device setup failed");
    if (vq_setup(&d, &rx, 0, 16, 1, VEC_VCON_RX) < 0 ||
        vq_setup(&d, &tx, 1, 16, 2, VEC_VCON_TX) < 0)
        return test_fail("queue setup failed");
    vdev_driver_ok(&d);
    if (send(&tx, "MINIVMM-VCON hello from the guest\n") < 0)
        return -1;
    if (d.features & (1ULL << VCON_F_EMERG_WRITE)) {
        mmio_write8(d.device + VCON_EMERG_WR, '!');
        mmio_write8(d.device + VCON_EMERG_WR, '\n');
    }
    if (cmdline_get("vcon-in", want, sizeof(want)) < 0)
        return 0;
    return receive(&rx, want);
}
