/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fault (only when named): touch an unmapped address from CPL3. The #PF
 * handler prints the exception and exits with EXIT_EXCEPTION + 14 (0x1e);
 * returning here is a failure.
 */
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "tests/tests.h"

/* PML4 slot 2 (1 TiB up) is not mapped by boot/pagetables.S. */
#define UNMAPPED 0x20000000000ULL

int test_fault(void)
{
    printf("fault: reading %#llx, expect #PF and exit 0x1e\n", UNMAPPED);
    (void)mmio_read32(UNMAPPED);
    return test_fail("no page fault");
}
