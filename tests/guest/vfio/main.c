/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfio payload: drives vfio-user devices (vfu-blk) that minivmm
 * presents on its PCI bus, with the lib/virtio.c driver and the virtio-blk
 * helpers of tests/guest/virtio/vblk.c. Tests run only when named
 * (test=vfio-two,...).
 */
#include "boot/cpu.h"
#include "lib/bootinfo.h"
#include "lib/exit.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"
#include "lib/time.h"
#include "vfio/vfio_tests.h"

static const struct test vfio_tests[] = {
    { "vfio-two", test_vfio_two },
    { "vfio-survive", test_vfio_survive },
    { "vfio-evil", test_vfio_evil },
    { "bench-vfio", bench_vfio },
    { "hotplug", test_hotplug },
    { "powerbtn", test_powerbtn },
};

void payload_main(void)
{
    serial_init();
    if (!bootinfo()) {
        printf("vfio: no valid hvm_start_info\n");
        guest_exit(0x31);
    }
    printf("vfio: cmdline '%s'\n", bootinfo_cmdline());
    if (time_init() < 0)
        panic("TSC calibration against the LAPIC timer failed");
    if (test_run(vfio_tests, sizeof(vfio_tests) / sizeof(vfio_tests[0]), 0))
        guest_exit(1);
    guest_exit(0);
}
