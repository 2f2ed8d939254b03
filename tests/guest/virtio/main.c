/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio payload: drives minivmm's virtio-pci devices with the
 * lib/virtio.c driver. Tests run only when named on the command line
 * (test=vblk,vrng,...): each needs its device on the minivmm command line.
 */
#include "boot/cpu.h"
#include "lib/bootinfo.h"
#include "lib/exit.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vtests.h"

static const struct test virtio_tests[] = {
    { "vblk", test_vblk },
    { "vblk-mask", test_vblk_mask },
    { "vrng", test_vrng },
    { "vcon", test_vcon },
    { "vnet", test_vnet },
    { "bench-vblk", bench_vblk },
    { "vblk-count", test_vblk_count },
    { "vblk-readsum", test_vblk_readsum },
    { "viommu", test_viommu },
    { "bench-viommu", bench_viommu },
    { "vblk-hold", test_vblk_hold },
    { "vblk-iocount", test_vblk_iocount },
    { "vtd", test_vtd },
    { "bench-vtd", bench_vtd },
};

void payload_main(void)
{
    serial_init();
    if (!bootinfo()) {
        printf("virtio: no valid hvm_start_info\n");
        guest_exit(0x31);
    }
    printf("virtio: cmdline '%s'\n", bootinfo_cmdline());
    if (time_init() < 0)
        panic("TSC calibration against the LAPIC timer failed");
    if (test_run(virtio_tests, sizeof(virtio_tests) / sizeof(virtio_tests[0]),
                 0))
        guest_exit(1);
    guest_exit(0);
}
