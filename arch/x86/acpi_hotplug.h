/* SPDX-License-Identifier: BSD-3-Clause */
/* The DSDT's PCI hotplug, Generic Event Device and power button (ACPI 6.5
 * §5.6.9 GED, §6.3.3 _EJ0, §5.6.6 Notify 1/3 on a slot, §4.8.2.2.1 power
 * button device), the hardware-reduced way cloud-hypervisor does it:
 *
 *   Scope (\_SB.PCI0) {
 *     OperationRegion (PCST, SystemIO, hotplug_port, 16)
 *     Field (PCST, DWordAcc, NoLock, WriteAsZeros) { PCIU,32, PCID,32,
 *                                                   B0EJ,32, PRES,32 }
 *     Method (PCNT) { Local0 = PCIU; Local1 = PCID;
 *       If (Local0 & 1 << N) { Notify (SNN, 1) } ...     device check
 *       If (Local1 & 1 << N) { Notify (SNN, 3) } ... }   eject request
 *     Device (SNN) { _ADR = N << 16; _SUN = N;           N = 1..31
 *                    Method (_EJ0, 1) { B0EJ = 1 << N } }
 *   }
 *   Device (GED0) { _HID "ACPI0013"; _CRS: Interrupt (Level, ActiveHigh,
 *     Exclusive) { ged_gsi }; GDAT at hotplug_port + 16;
 *     Method (_EVT, 1) { Local0 = GDAT;
 *       If (Local0 & 1) { \_SB.PCI0.PCNT () }
 *       If (Local0 & 2) { Notify (PWRB, 0x80) } } }
 *   Device (PWRB) { _HID PNP0C0C }
 *
 * Emitted inside Scope (\_SB), after PCI0. Nothing if d->hotplug_port is
 * 0. The registers: arch/x86/platform.h X86_HOTPLUG_*, devices/hotplug.h. */
#ifndef MINIVMM_X86_ACPI_HOTPLUG_H
#define MINIVMM_X86_ACPI_HOTPLUG_H

#include "arch/x86/aml.h"
#include "arch/x86/platform.h"

void acpi_dsdt_hotplug(struct aml *a, const struct x86_platform_desc *d);

#endif
