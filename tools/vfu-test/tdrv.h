/* SPDX-License-Identifier: BSD-3-Clause */
/* vfu-test's virtio-blk driver: programs vfu-blk's modern virtio-pci
 * registers over REGION_WRITE/WRITE_MULTI and runs one virtqueue in a
 * local "guest memory" buffer (virtio/vring_driver.h), waiting for
 * completions on the MSI-X eventfd it gave the server.
 *
 * Guest memory layout (bytes from the base IOVA): rings at 0, request
 * headers/status at TD_HDRS, an out buffer at TD_OUT and an in buffer at
 * TD_IN, TD_BUF_SIZE each.
 */
#ifndef VFU_TEST_TDRV_H
#define VFU_TEST_TDRV_H

#include <stdbool.h>
#include <stdint.h>

#include "tclient.h"
#include "virtio/guest_mem.h"
#include "virtio/vring_driver.h"

#define TD_QSIZE    128u
#define TD_HDRS     0x10000u
#define TD_OUT      0x100000u
#define TD_IN       0x600000u
#define TD_BUF_SIZE (4u << 20)
#define TD_MEM_SIZE (16u << 20)

struct tdrv {
    struct tc *tc;
    uint8_t *base;
    uint64_t iova;
    struct virtio_flat_mem fm;
    struct virtio_mem mem;
    struct vring_drv vr;
    int irq[2];             /* MSI-X vector 0 (config), 1 (queue 0) */
    int ioev;               /* queue 0 doorbell ioeventfd, or -1 */
    uint16_t slot_of[TD_QSIZE];
    uint16_t next_slot;
    unsigned int errors;    /* requests completed with status != OK */
};

/* Bind to @tc and memory @base at @iova (TD_MEM_SIZE bytes): eventfds,
 * SET_IRQS for MSI-X vectors 0-1, GET_REGION_IO_FDS. 0 or -errno. */
int tdrv_attach(struct tdrv *d, struct tc *tc, uint8_t *base, uint64_t iova);
/* After migration/reconnect: new eventfds, SET_IRQS and ioeventfd on
 * @tc, keeping the ring state. */
int tdrv_rebind(struct tdrv *d, struct tc *tc);
/* Driver init (virtio 3.1.1) with queue 0 laid out fresh. */
int tdrv_init_device(struct tdrv *d);
void tdrv_close(struct tdrv *d);

/* Publish one request (VIRTIO_BLK_T_IN/OUT) of @len bytes at @gpa for
 * @sector; no doorbell. 0 or -errno. */
int tdrv_submit(struct tdrv *d, uint32_t type, uint64_t sector,
                uint64_t gpa, uint32_t len);
/* Ring queue 0's doorbell by ioeventfd (if any and @ioev) or by a
 * REGION_WRITE. */
int tdrv_kick(struct tdrv *d, bool ioev);
/* Wait up to 10 s for @n completions; checks status bytes. */
int tdrv_wait(struct tdrv *d, unsigned int n);
/* Move @total bytes between the disk at @sector and @gpa in requests of
 * @chunk bytes, up to 8 in flight, alternating doorbell styles if
 * @mixed. 0 or -errno. */
int tdrv_transfer(struct tdrv *d, bool write, uint64_t sector, uint64_t gpa,
                  uint32_t total, uint32_t chunk, bool mixed);

#endif
