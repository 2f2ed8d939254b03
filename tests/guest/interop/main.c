/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interop payload: libvfio-user's sample servers (server,
 * gpio-pci-idio-16, null) and tests/interop/lvu-test-server attached to
 * minivmm with --vfio-user. Tests run only when named (test=server,...);
 * the host scripts are tests/interop/interop_*.sh.
 */
#include "boot/cpu.h"
#include "interop/interop.h"
#include "lib/bootinfo.h"
#include "lib/exit.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"
#include "lib/time.h"

static const struct test interop_tests[] = {
    { "server", test_server },
    { "gpio", test_gpio },
    { "null", test_null },
    { "lvu", test_lvu },
    { "lvu-intx", test_lvu_intx },
    { "lvu-reconnect", test_lvu_reconnect },
    { "survive", test_survive },
    { "reconnect", test_reconnect },
};

void payload_main(void)
{
    serial_init();
    if (!bootinfo()) {
        printf("interop: no valid hvm_start_info\n");
        guest_exit(0x31);
    }
    printf("interop: cmdline '%s'\n", bootinfo_cmdline());
    if (time_init() < 0)
        panic("TSC calibration against the LAPIC timer failed");
    if (test_run(interop_tests,
                 sizeof(interop_tests) / sizeof(interop_tests[0]), 0))
        guest_exit(1);
    guest_exit(0);
}
