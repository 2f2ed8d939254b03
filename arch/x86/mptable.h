/* SPDX-License-Identifier: BSD-3-Clause */
/* Intel MultiProcessor Specification 1.4 tables for the guest: the MP
 * floating pointer and an MP configuration table (processors, ISA and PCI
 * buses, the IOAPIC, I/O and local interrupt assignments). A fallback for
 * guests booted without ACPI (e.g. Linux with acpi=off). Pure: no KVM, no
 * I/O. */
#ifndef MINIVMM_X86_MPTABLE_H
#define MINIVMM_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/platform.h"

/* Bus IDs used in the configuration table. */
#define MPTABLE_BUS_PCI 0
#define MPTABLE_BUS_ISA 1

/* Build the MP tables for @d into @buf (@size bytes), which the guest will
 * see at GPA @gpa (16-byte aligned; X86_MPTABLE_GPA, inside the BIOS area
 * 0xF0000-0xFFFFF that guests scan). Layout: the 16-byte floating pointer
 * "_MP_" at buf[0], the configuration table "PCMP" right after it. Entries
 * (MP spec §4.3, in type order): one processor per CPU (APIC ID i, CPU 0 is
 * the BSP); bus 0 PCI, bus 1 ISA; the IOAPIC; ISA IRQs 0-15 but 2 (IRQ 0 ->
 * INTIN 2, the others identity, conforming polarity/trigger); PCI slots
 * 1-31 INTA-D -> INTIN 16 + (slot + pin) % 4, level, active-high; LINT0
 * ExtINT and LINT1 NMI on all local APICs. *@used = bytes written.
 *
 * Returns 0; -EINVAL if @d is invalid (ncpus 0 or > X86_MAX_CPUS, non-zero
 * ioapic_gsi_base, LAPIC/IOAPIC not below 4 GiB) or @gpa is not 16-byte
 * aligned or the tables would not end below 4 GiB; -ENOSPC if @size is too
 * small. */
int mptable_build(const struct x86_platform_desc *d, uint8_t *buf, size_t size,
                  uint64_t gpa, size_t *used);

#endif
