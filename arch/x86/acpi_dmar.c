/* SPDX-License-Identifier: BSD-3-Clause */
/* ACPI DMAR body (see acpi_dmar.h; VT-d spec 4.x, 8.1 and 8.3). */
#include "arch/x86/acpi_dmar.h"

#include <errno.h>
#include <string.h>

#include "vmm/endian.h"

int acpi_dmar_check(const struct x86_dmar *d)
{
    if (d->aw_bits < 32 || d->aw_bits > 64)
        return -EINVAL;
    if ((d->drhd_base & 0xfff) || d->drhd_base >= (1ULL << 32) - 0xfff)
        return -EINVAL;
    return 0;
}

void acpi_dmar_body(const struct x86_dmar *d, uint8_t *p)
{
    uint8_t *drhd = p + ACPI_DMAR_HDR_LEN;

    memset(p + 36, 0, ACPI_DMAR_LEN - 36);
    p[36] = (uint8_t)(d->aw_bits - 1);      /* host address width */
    p[37] = 0;                              /* flags: no INTR_REMAP */
    le16_store(drhd, 0);                    /* type: DRHD */
    le16_store(drhd + 2, ACPI_DMAR_DRHD_LEN);
    drhd[4] = ACPI_DMAR_INCLUDE_PCI_ALL;
    drhd[5] = 0;                            /* size: 2^0 4 KiB pages */
    le16_store(drhd + 6, 0);                /* segment 0 */
    le64_store(drhd + 8, d->drhd_base);
}
