/* SPDX-License-Identifier: BSD-3-Clause */
/* The interop payload's tests (tests/guest/interop/): third-party
 * vfio-user servers (libvfio-user's samples) and our libvfio-user-based
 * lvu-test-server, as minivmm presents them on its PCI bus. */
#ifndef GUEST_INTEROP_H
#define GUEST_INTEROP_H
#include <stdint.h>

#include "lib/pci.h"

#define VEC_LVU_INTX 0x70

/* A function found on bus 0, its BARs probed and assigned (memory from
 * 0xC0000000, I/O from 0x1000), decoding and bus mastering enabled. */
struct idev {
    struct pci_addr a;
    struct pci_bar bar[6];
};

/* Find the @nth function (0-based) with @vendor:@device on bus 0; assign
 * its BARs. 0, -ENOENT (absent) or -ENOSPC (window full). Prints where. */
int idev_find(uint16_t vendor, uint16_t device, unsigned int nth,
              struct idev *d);
/* Check class code (24 bits), and for each BAR i: io[i] (0 memory, 1 I/O)
 * and size[i] (0: unimplemented). Returns 0 or test_fail(). */
int idev_expect(const struct idev *d, uint32_t class_code,
                const int io[6], const uint64_t size[6]);

/* The lvu-test-server device (found again) still serves its mapped areas,
 * trapped registers and doorbells: 0 or test_fail(). */
int lvu_still_works(void);

int test_server(void);
int test_gpio(void);
int test_null(void);
int test_lvu(void);
int test_lvu_intx(void);
int test_lvu_reconnect(void);
int test_survive(void);
int test_reconnect(void);

#endif
