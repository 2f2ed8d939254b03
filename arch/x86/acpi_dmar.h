/* SPDX-License-Identifier: BSD-3-Clause */
/* The ACPI DMAR table's body (--viommu intel; docs/viommu.md), built by
 * acpi_build() (arch/x86/acpi.c), which writes the 36-byte header and the
 * checksum around it. Pure. Source: Intel VT-d specification rev. 4.x,
 * chapter 8 (8.1 DMAR, 8.3 DRHD). */
#ifndef MINIVMM_X86_ACPI_DMAR_H
#define MINIVMM_X86_ACPI_DMAR_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/platform.h"

#define ACPI_DMAR_HDR_LEN  48u  /* ACPI header + HAW, flags, reserved */
#define ACPI_DMAR_DRHD_LEN 16u  /* a DRHD without device scopes */
#define ACPI_DMAR_LEN (ACPI_DMAR_HDR_LEN + ACPI_DMAR_DRHD_LEN)
#define ACPI_DMAR_INCLUDE_PCI_ALL 0x1u

/* 0 when @d can be described: aw_bits 32..64, drhd_base 4 KiB aligned and
 * its 4 KiB below 4 GiB; else -EINVAL. */
int acpi_dmar_check(const struct x86_dmar *d);

/* Fill bytes [36, ACPI_DMAR_LEN) of the DMAR at @p: host address width
 * (aw_bits - 1), flags 0 (no INTR_REMAP, no X2APIC_OPT_OUT), then one DRHD
 * (type 0) with INCLUDE_PCI_ALL for segment 0 at drhd_base (register set
 * size 0: one 4 KiB page), no device scopes. */
void acpi_dmar_body(const struct x86_dmar *d, uint8_t *p);

#endif
