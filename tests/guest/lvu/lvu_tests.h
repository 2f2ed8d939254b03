/* SPDX-License-Identifier: BSD-3-Clause */
/* The lvu payload's tests (tests/guest/lvu/): the libvfio-user migration
 * test device of tests/interop/lvu-mig-server.c. */
#ifndef GUEST_LVU_TESTS_H
#define GUEST_LVU_TESTS_H

int test_lvu_mig(void);

#endif
