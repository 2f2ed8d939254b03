/* SPDX-License-Identifier: BSD-3-Clause */
/* System control ports (docs/platform.md): the i8042 stub, the reset
 * control register, the test-exit port and the hardware-reduced ACPI sleep
 * registers. Each asks the VM to stop through struct vm_stop_ctl.
 *
 * - i8042 (0x60 data, 0x64 status/command): no keyboard, no controller.
 *   Status and data read 0 (output buffer empty), so guests give up probing.
 *   Writing command 0xFE (pulse reset line) to 0x64 → VM_STOP_RESET; every
 *   other write is ignored.
 * - Reset control (0xCF9, 8-bit, PIIX RCR): a write with bit 2 (RST_CPU)
 *   set → VM_STOP_RESET. Bits 1 and 3 are kept and read back. 0xCF9 lies
 *   inside the PCI mechanism #1 ports 0xCF8-0xCFF, so when a pci_host exists
 *   it owns those ports and forwards byte accesses at 0xCF9 to
 *   sysctl_reset_ops (see pci_host.h); sysctl_attach() then skips 0xCF9.
 * - Test exit (0xF4, 4 bytes registered): a 1-, 2- or 4-byte write of V at
 *   0xF4 → VM_STOP_TEST_EXIT with status V & 0xFF. Reads are all-ones.
 * - ACPI sleep control (0x600) and status (0x601), 8-bit registers
 *   (ACPI 6.x §4.8.3.7-8); wider accesses are handled byte by byte.
 *   A control write with SLP_EN (bit 5) and SLP_TYP (bits 2-4) == 5 (S5)
 *   → VM_STOP_POWEROFF. Sleep status bit 7 (WAK_STS) reads 1 at power on and
 *   is write-1-to-clear; SLP_EN with any other SLP_TYP is not supported, so
 *   the "sleep" ends at once: WAK_STS is set again and the guest resumes.
 *   Control reads 0 (SLP_EN is write-only).
 */
#ifndef MINIVMM_SYSCTL_H
#define MINIVMM_SYSCTL_H

#include <stdbool.h>

#include "vmm/bus.h"
#include "vmm/runstate.h"
#include "vmm/state.h"

#define SYSCTL_I8042_DATA_PORT 0x60
#define SYSCTL_I8042_CMD_PORT  0x64
#define SYSCTL_RESET_PORT      0xCF9
#define SYSCTL_TEST_EXIT_PORT  0xF4
#define SYSCTL_TEST_EXIT_LEN   4
#define SYSCTL_ACPI_SLEEP_PORT 0x600 /* control; status at +1 */
#define SYSCTL_ACPI_SLEEP_LEN  2

#define SYSCTL_SLP_TYP_S5 5 /* the SLP_TYP value _S5 must name in the DSDT */

struct sysctl_config {
    struct vm_stop_ctl stop; /* copied; request_stop is required */
};

struct sysctl;

/* 0, -EINVAL (no request_stop) or -ENOMEM. */
int sysctl_create(const struct sysctl_config *cfg, struct sysctl **out);
/* Call after sysctl_detach() or once its port bus is destroyed. */
void sysctl_destroy(struct sysctl *sc);

/* Register every port above on @pio (0xCF9 too if @with_reset_port: pass
 * false when a pci_host forwards it). 0 or -errno from bus_register(), with
 * nothing left registered on failure. */
int sysctl_attach(struct sysctl *sc, struct bus *pio, bool with_reset_port);
/* Unregister what sysctl_attach() registered. */
void sysctl_detach(struct sysctl *sc, struct bus *pio);

/* The port handlers, opaque = struct sysctl *, for wiring by hand. */
extern const struct bus_ops sysctl_i8042_data_ops; /* 1 byte at 0x60 */
extern const struct bus_ops sysctl_i8042_cmd_ops;  /* 1 byte at 0x64 */
extern const struct bus_ops sysctl_reset_ops;      /* 1 byte at 0xCF9 */
extern const struct bus_ops sysctl_test_exit_ops;  /* 4 bytes at 0xF4 */
extern const struct bus_ops sysctl_acpi_sleep_ops; /* 2 bytes at 0x600 */

/* Save/load the reset control and sleep status registers; opaque =
 * struct sysctl *. */
extern const struct state_ops sysctl_state_ops;

#endif
