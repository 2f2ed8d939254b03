/* SPDX-License-Identifier: BSD-3-Clause */
/* The virtio payload's tests (tests/guest/virtio/). */
#ifndef GUEST_VIRTIO_TESTS_H
#define GUEST_VIRTIO_TESTS_H

/* MSI-X vectors (IDT) the tests use. */
#define VEC_VBLK      0x50
#define VEC_VBLK_CFG  0x51
#define VEC_VRNG      0x52
#define VEC_VCON_RX   0x53
#define VEC_VCON_TX   0x54
#define VEC_VNET_RX   0x55
#define VEC_VNET_TX   0x56
#define VEC_VTD_FAULT 0x57     /* VT-d fault event (test_vtd.c) */

int test_vblk(void);
int test_vblk_mask(void);
int test_vrng(void);
int test_vcon(void);
int test_vnet(void);
int bench_vblk(void);
int test_vblk_count(void);      /* live migration with disk I/O */
int test_vblk_readsum(void);    /* migration of device writes to RAM */
int test_vblk_hold(void);       /* on-demand restore, fd-DMA devices */
int test_vblk_iocount(void);    /* per-I/O counters (issue 16) */
int test_viommu(void);          /* --viommu with a vfu-blk endpoint */
int bench_viommu(void);
struct vblk;
int viommu_confine(struct vblk *b, void *w, void *r, void **wdma,
                   void **rdma);
int test_vtd(void);             /* --viommu intel, programmed by hand */
int bench_vtd(void);
int vtd_confine(struct vblk *b, void *w, void *r, void **wdma, void **rdma);

#endif
