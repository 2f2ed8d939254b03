/* SPDX-License-Identifier: BSD-3-Clause */
/* The vfio payload's tests (tests/guest/vfio/): virtio-blk devices that
 * minivmm presents through its vfio-user client (vfu-blk servers). */
#ifndef GUEST_VFIO_TESTS_H
#define GUEST_VFIO_TESTS_H

#define VEC_VFIO0 0x60 /* +1: config vector */
#define VEC_VFIO1 0x62

int test_vfio_two(void);
int test_vfio_survive(void);
int test_vfio_evil(void);
int bench_vfio(void);
int test_hotplug(void);
int test_powerbtn(void);

#endif
