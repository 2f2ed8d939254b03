/* SPDX-License-Identifier: BSD-3-Clause */
/* ACPI tables for the guest (ACPI 6.5): RSDP, XSDT, FADT (hardware-reduced),
 * DSDT, MADT and MCFG, built as a pure function into a caller-supplied
 * buffer that the VMM then copies to guest memory. No KVM, no I/O. */
#ifndef MINIVMM_X86_ACPI_H
#define MINIVMM_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/platform.h"

/* Build the tables for @d into @buf (@size bytes), which the guest will see
 * at GPA @gpa (16-byte aligned; X86_ACPI_GPA). Layout, each table 16-byte
 * aligned: RSDP at buf[0] (so its GPA is @gpa, which goes into the boot
 * protocol's RSDP pointer), then XSDT, FADT, DSDT, MADT, MCFG and, with
 * d->viot, VIOT (ACPI 6.5 §5.2.32: a virtio-pci IOMMU node, then one PCI
 * range node per endpoint), and with d->dmar, DMAR (VT-d spec 8.1:
 * arch/x86/acpi_dmar.h). Every pointer
 * inside is a GPA computed from @gpa. *@used = bytes written (the rest of
 * @buf is untouched).
 *
 * Returns 0; -EINVAL if @d is invalid (ncpus 0 or > X86_MAX_CPUS, non-zero
 * ioapic_gsi_base, LAPIC/IOAPIC/ECAM/32-bit window not below 4 GiB, empty
 * or overflowing windows, ECAM not 1 MiB aligned, a VIOT with 0 or more
 * than X86_VIOT_MAX_EPS endpoints, a DMAR acpi_dmar_check() refuses)
 * or @gpa is not 16-byte
 * aligned; -ENOSPC if @size is too small.
 *
 * Sources: ACPI 6.5 §5.2 (tables), §6.4 (resources), §20 (AML); PCI
 * Firmware Specification 3.2 §4.1.2 (MCFG). */
int acpi_build(const struct x86_platform_desc *d, uint8_t *buf, size_t size,
               uint64_t gpa, size_t *used);

#endif
