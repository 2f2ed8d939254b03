/* SPDX-License-Identifier: BSD-3-Clause */
/* Test helpers for the ACPI tables acpi_build() writes (arch/x86/acpi.c;
 * tests/unit/test_acpi_dmar.c, test_acpi_viot.c): the tables are built
 * into a test's buffer as if it lay at guest-physical ACPI_TEST_GPA, and
 * read back with offsets from the ACPI 6.5 spec (§5.2.5 RSDP: XSDT
 * address at byte 24; §5.2.6 header: length at 4, 36 bytes; §5.2.8 XSDT:
 * 8-byte entries after the header). */
#ifndef MINIVMM_TESTS_UNIT_ACPI_TABLES_H
#define MINIVMM_TESTS_UNIT_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "vmm/endian.h"

#define ACPI_TEST_GPA 0xe0000u     /* the buffer's guest-physical address */
#define ACPI_TEST_SIZE 16384u      /* bytes: room for every table */

/* acpi_build() of @d into @buf (ACPI_TEST_SIZE bytes) at ACPI_TEST_GPA;
 * *@used = bytes written. 0 or acpi_build()'s negative errno. */
static inline int acpi_test_build(const struct x86_platform_desc *d,
                                  uint8_t *buf, size_t *used)
{
    return acpi_build(d, buf, ACPI_TEST_SIZE, ACPI_TEST_GPA, used);
}

/* The bytes at guest-physical @gpa of the tables built into @buf. */
static inline const uint8_t *acpi_table_at(const uint8_t *buf, uint64_t gpa)
{
    return buf + (gpa - ACPI_TEST_GPA);
}

/* The 8-bit sum of @n bytes at @p (0 for a checksummed table). */
static inline uint8_t acpi_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

/* The XSDT of the tables in @buf (the RSDP at its start points at it). */
static inline const uint8_t *acpi_xsdt(const uint8_t *buf)
{
    return acpi_table_at(buf, le64_load(buf + 24));
}

/* The 8-bit sum of the whole table at @t (its length at byte 4). */
static inline uint8_t acpi_table_sum(const uint8_t *t)
{
    return acpi_sum(t, le32_load(t + 4));
}

/* The XSDT's table with signature @sig (4 chars), or NULL; *@n = the
 * number of XSDT entries. */
static inline const uint8_t *acpi_find(const uint8_t *buf, const char *sig,
                                       unsigned int *n)
{
    const uint8_t *x = acpi_xsdt(buf);

    *n = (le32_load(x + 4) - 36) / 8;
    for (unsigned int i = 0; i < *n; i++) {
        const uint8_t *t = acpi_table_at(buf, le64_load(x + 36 + 8 * i));

        if (!memcmp(t, sig, 4))
            return t;
    }
    return NULL;
}

#endif
