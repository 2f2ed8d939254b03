/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lvu payload: drives tests/interop/lvu-mig-server.c (a libvfio-user
 * test device, PCI 1234:4d47) across snapshot/restore and live migration.
 * Tests run only when named (test=lvu-mig).
 */
#include "boot/cpu.h"
#include "lib/bootinfo.h"
#include "lib/exit.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"
#include "lib/time.h"
#include "lvu/lvu_tests.h"

static const struct test lvu_tests[] = {
    { "lvu-mig", test_lvu_mig },
};

void payload_main(void)
{
    serial_init();
    if (!bootinfo()) {
        printf("lvu: no valid hvm_start_info\n");
        guest_exit(0x31);
    }
    printf("lvu: cmdline '%s'\n", bootinfo_cmdline());
    if (time_init() < 0)
        panic("TSC calibration against the LAPIC timer failed");
    if (test_run(lvu_tests, sizeof(lvu_tests) / sizeof(lvu_tests[0]), 0))
        guest_exit(1);
    guest_exit(0);
}
