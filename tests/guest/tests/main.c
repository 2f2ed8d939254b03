/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The base test payload: CPL3 entry on the BSP (boot/cpu.c has masked the
 * PICs and enabled the LAPIC). Sets up the console, calibrates the TSC,
 * runs the tests picked by the command line and exits 0 (all passed) or 1.
 */
#include "boot/cpu.h"
#include "boot/layout.h"
#include "lib/bootinfo.h"
#include "lib/exit.h"
#include "lib/lapic.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"
#include "lib/time.h"
#include "tests/tests.h"

static const struct test base_tests[] = {
    { "serial", test_serial },
    { "pci", test_pci },
    { "timer", test_timer },
    { "ioapic", test_ioapic },
    { "smp", test_smp },
    /* Only when named: */
    { "fault", test_fault },
    { "counter", test_counter },
    { "bars", test_bars },
};
#define NR_DEFAULT 5

void payload_main(void)
{
    uint64_t ecam;

    serial_init();
    if (!bootinfo()) {
        printf("payload: no valid hvm_start_info\n");
        guest_exit(EXIT_BADBOOT);
    }
    printf("payload: cmdline '%s'\n", bootinfo_cmdline());
    if (cmdline_get_u64("ecam", &ecam) == 0)
        pci_set_ecam_base(ecam);
    if (time_init() < 0)
        panic("TSC calibration against the LAPIC timer failed");
    printf("payload: tsc %lu kHz, bsp apic id %u\n", tsc_hz() / 1000,
           lapic_id());
    if (test_run(base_tests, sizeof(base_tests) / sizeof(base_tests[0]),
                 NR_DEFAULT))
        guest_exit(1);
    guest_exit(0);
}
