/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for arch/x86/acpi.c and arch/x86/aml.c. Tables are parsed with
 * offsets taken from the ACPI 6.5 spec, independently of acpi.c's structs.
 * test_iasl round-trips the tables through acpica-tools' iasl when it is
 * installed (apt-get install acpica-tools) and is skipped otherwise. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"

#define BUF_SIZE X86_ACPI_MAX_SIZE

struct tables {
    uint8_t buf[BUF_SIZE];
    size_t used;
    uint64_t gpa;
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

static void build(struct tables *t, unsigned int ncpus)
{
    struct x86_platform_desc d;

    x86_platform_desc_init(&d, ncpus);
    memset(t->buf, 0xAA, sizeof(t->buf));
    t->gpa = X86_ACPI_GPA;
    assert_int_equal(acpi_build(&d, t->buf, sizeof(t->buf), t->gpa, &t->used),
                     0);
    assert_true(t->used > 36 && t->used <= sizeof(t->buf));
    assert_int_equal(t->buf[t->used], 0xAA); /* nothing written past */
}

/* The table at @gpa: inside the used part, 16-byte aligned, whole table
 * inside, checksum 0, signature @sig. */
static const uint8_t *table_at(const struct tables *t, uint64_t gpa,
                               const char *sig)
{
    const uint8_t *p;
    uint32_t len;

    assert_true(gpa >= t->gpa && gpa - t->gpa + 36 <= t->used);
    assert_int_equal(gpa % 16, 0);
    p = t->buf + (gpa - t->gpa);
    len = get32(p + 4);
    assert_true(len >= 36 && gpa - t->gpa + len <= t->used);
    assert_memory_equal(p, sig, 4);
    assert_int_equal(sum8(p, len), 0);
    assert_memory_equal(p + 10, "MINIVM", 6);
    return p;
}

/* XSDT entry whose table has signature @sig (exactly one). */
static const uint8_t *xsdt_find(const struct tables *t, const char *sig)
{
    const uint8_t *xsdt = table_at(t, get64(t->buf + 24), "XSDT");
    uint32_t n = (get32(xsdt + 4) - 36) / 8;
    const uint8_t *found = NULL;

    for (uint32_t i = 0; i < n; i++) {
        uint64_t gpa = get64(xsdt + 36 + 8 * i);
        const uint8_t *p = t->buf + (gpa - t->gpa);

        assert_true(gpa >= t->gpa && gpa - t->gpa + 36 <= t->used);
        if (!memcmp(p, sig, 4)) {
            assert_null(found);
            found = table_at(t, gpa, sig);
        }
    }
    assert_non_null(found);
    return found;
}

static void test_rsdp(void **state)
{
    struct tables *t = *state;
    const uint8_t *xsdt;

    build(t, 2);
    assert_memory_equal(t->buf, "RSD PTR ", 8);
    assert_int_equal(sum8(t->buf, 20), 0);
    assert_int_equal(t->buf[15], 2);          /* revision */
    assert_int_equal(get32(t->buf + 16), 0);  /* no RSDT */
    assert_int_equal(get32(t->buf + 20), 36); /* length */
    assert_int_equal(sum8(t->buf, 36), 0);    /* extended checksum */
    xsdt = table_at(t, get64(t->buf + 24), "XSDT");
    assert_int_equal(xsdt[8], 1);
    assert_int_equal(get32(xsdt + 4), 36 + 3 * 8);
}

static void test_xsdt_tables(void **state)
{
    struct tables *t = *state;
    const uint8_t *fadt, *madt, *mcfg, *dsdt;
    uint64_t end[4];

    build(t, 4);
    fadt = xsdt_find(t, "FACP");
    madt = xsdt_find(t, "APIC");
    mcfg = xsdt_find(t, "MCFG");
    dsdt = table_at(t, get64(fadt + 140), "DSDT");
    /* No two tables overlap (they are laid out in this order). */
    end[0] = (uint64_t)(fadt - t->buf) + get32(fadt + 4);
    end[1] = (uint64_t)(dsdt - t->buf) + get32(dsdt + 4);
    end[2] = (uint64_t)(madt - t->buf) + get32(madt + 4);
    end[3] = (uint64_t)(mcfg - t->buf) + get32(mcfg + 4);
    assert_true(end[0] <= (uint64_t)(dsdt - t->buf));
    assert_true(end[1] <= (uint64_t)(madt - t->buf));
    assert_true(end[2] <= (uint64_t)(mcfg - t->buf));
    assert_int_equal(end[3], t->used);
}

/* Generic Address Structure for an 8-bit System I/O port. */
static void assert_gas_io8(const uint8_t *g, uint16_t port)
{
    assert_int_equal(g[0], 1); /* System I/O */
    assert_int_equal(g[1], 8);
    assert_int_equal(g[2], 0);
    assert_int_equal(g[3], 1); /* byte access */
    assert_int_equal(get64(g + 4), port);
}

static void test_fadt(void **state)
{
    struct tables *t = *state;
    const uint8_t *f;
    uint32_t flags;
    uint16_t boot;

    build(t, 1);
    f = xsdt_find(t, "FACP");
    assert_int_equal(get32(f + 4), 276);
    assert_int_equal(f[8], 6);          /* revision */
    assert_int_equal(get32(f + 36), 0); /* FIRMWARE_CTRL */
    assert_int_equal(get32(f + 40), 0); /* DSDT: X_DSDT used */
    assert_int_equal(get16(f + 46), 0); /* SCI_INT */
    assert_int_equal(get32(f + 64), 0); /* PM1a_CNT_BLK */
    boot = get16(f + 109);
    assert_int_equal(boot & 0x02, 0);    /* no 8042 */
    assert_int_equal(boot & 0x04, 0x04); /* VGA not present */
    assert_int_equal(boot & 0x08, 0);    /* MSI supported */
    assert_int_equal(boot & 0x20, 0);    /* CMOS RTC present */
    flags = get32(f + 112);
    assert_true(flags & (1u << 20)); /* HW_REDUCED_ACPI */
    assert_true(flags & (1u << 10)); /* RESET_REG_SUP */
    assert_gas_io8(f + 116, X86_RESET_PORT);
    assert_int_equal(f[128], X86_RESET_VALUE);
    assert_int_equal(get64(f + 132), 0); /* X_FIRMWARE_CTRL */
    assert_gas_io8(f + 244, X86_SLEEP_CTL_PORT);
    assert_gas_io8(f + 256, X86_SLEEP_STS_PORT);
    table_at(t, get64(f + 140), "DSDT");
}

static void check_madt(struct tables *t, unsigned int ncpus)
{
    const uint8_t *m, *e, *end;
    unsigned int cpus = 0, ioapics = 0, isos = 0, nmis = 0;

    build(t, ncpus);
    m = xsdt_find(t, "APIC");
    assert_int_equal(get32(m + 36), X86_LAPIC_ADDR);
    assert_int_equal(get32(m + 40) & 1, 1); /* PCAT_COMPAT */
    end = m + get32(m + 4);
    for (e = m + 44; e < end; e += e[1]) {
        assert_true(e[1] >= 2 && e + e[1] <= end);
        if (e[0] == 0) { /* Processor Local APIC */
            assert_int_equal(e[1], 8);
            assert_int_equal(e[2], cpus); /* UID */
            assert_int_equal(e[3], cpus); /* APIC ID */
            assert_int_equal(get32(e + 4) & 1, 1);
            cpus++;
        } else if (e[0] == 1) { /* I/O APIC */
            assert_int_equal(e[1], 12);
            assert_int_equal(get32(e + 4), X86_IOAPIC_ADDR);
            assert_int_equal(get32(e + 8), 0);
            ioapics++;
        } else if (e[0] == 2) { /* Source Override */
            assert_int_equal(e[1], 10);
            assert_int_equal(e[2], 0);         /* ISA */
            assert_int_equal(e[3], 0);         /* IRQ 0 */
            assert_int_equal(get32(e + 4), 2); /* GSI 2 */
            isos++;
        } else if (e[0] == 4) { /* Local APIC NMI */
            assert_int_equal(e[1], 6);
            assert_int_equal(e[2], 0xFF);
            assert_int_equal(e[5], 1); /* LINT1 */
            nmis++;
        } else {
            fail_msg("unexpected MADT entry type %u", e[0]);
        }
    }
    assert_ptr_equal(e, end);
    assert_int_equal(cpus, ncpus);
    assert_int_equal(ioapics, 1);
    assert_int_equal(isos, 1);
    assert_int_equal(nmis, 1);
}

static void test_madt(void **state)
{
    check_madt(*state, 1);
    check_madt(*state, 4);
    check_madt(*state, X86_MAX_CPUS);
}

static void test_mcfg(void **state)
{
    struct tables *t = *state;
    const uint8_t *m;

    build(t, 1);
    m = xsdt_find(t, "MCFG");
    assert_int_equal(get32(m + 4), 60);
    assert_int_equal(get64(m + 44), X86_ECAM_BASE);
    assert_int_equal(get16(m + 52), 0); /* segment */
    assert_int_equal(m[54], 0);
    assert_int_equal(m[55], X86_ECAM_BUS_END);
}

static const uint8_t *find_bytes(const uint8_t *p, size_t len, const void *pat,
                                 size_t n)
{
    return memmem(p, len, pat, n);
}

static void test_dsdt_content(void **state)
{
    static const uint8_t s5[] = {0x08, '_',  'S',  '5',  '_',  0x12, 0x08,
                                 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00};
    static const uint8_t hid[] = {0x08, '_',  'H',  'I',  'D',
                                  0x0C, 0x41, 0xD0, 0x0A, 0x08}; /* PNP0A08 */
    static const uint8_t prt[] = {'_', 'P', 'R', 'T', 0x12};
    static const uint8_t ecam[] = {0x86, 0x09, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0xE0, 0x00, 0x00, 0x00, 0x10};
    struct tables *t = *state;
    const uint8_t *f, *d, *p;
    size_t len;

    build(t, 1);
    f = xsdt_find(t, "FACP");
    d = table_at(t, get64(f + 140), "DSDT");
    assert_int_equal(d[8], 2); /* revision 2: 64-bit integers */
    len = get32(d + 4);
    assert_non_null(find_bytes(d, len, s5, sizeof(s5)));
    assert_non_null(find_bytes(d, len, hid, sizeof(hid)));
    assert_non_null(find_bytes(d, len, ecam, sizeof(ecam)));
    /* _PRT: Package, 2-byte PkgLength, 124 elements. */
    p = find_bytes(d, len, prt, sizeof(prt));
    assert_non_null(p);
    assert_int_equal(p[5] >> 6, 1);
    assert_int_equal(p[7], 31 * 4);
}

/* PCI hotplug, GED and power button (arch/x86/acpi_hotplug.c): the GED's
 * _HID string and level interrupt on GSI 20, the registers' SystemIO
 * region at 0x620, a slot device with _EJ0 for every slot 1-31, PCNT;
 * none of it with hotplug_port 0. */
static void test_dsdt_hotplug(void **state)
{
    static const uint8_t ged_hid[] = {0x0D, 'A', 'C', 'P', 'I', '0', '0',
                                      '1', '3', 0x00};
    static const uint8_t irq[] = {0x89, 0x06, 0x00, 0x01, 0x01,
                                  20, 0x00, 0x00, 0x00};
    static const uint8_t region[] = {0x5B, 0x80, 'P', 'C', 'S', 'T', 0x01,
                                     0x0B, 0x20, 0x06, 0x0A, 0x10};
    struct tables *t = *state;
    struct x86_platform_desc d;
    const uint8_t *f, *dsdt;
    size_t len;
    char name[8];

    build(t, 1);
    f = xsdt_find(t, "FACP");
    dsdt = table_at(t, get64(f + 140), "DSDT");
    len = get32(dsdt + 4);
    assert_non_null(find_bytes(dsdt, len, ged_hid, sizeof(ged_hid)));
    assert_non_null(find_bytes(dsdt, len, irq, sizeof(irq)));
    assert_non_null(find_bytes(dsdt, len, region, sizeof(region)));
    assert_non_null(find_bytes(dsdt, len, "PCNT", 4));
    assert_non_null(find_bytes(dsdt, len, "PWRB", 4));
    for (unsigned int s = 1; s < 32; s++) {
        snprintf(name, sizeof(name), "S%02X_", s);
        assert_non_null(find_bytes(dsdt, len, name, 4));
    }
    x86_platform_desc_init(&d, 1);
    d.hotplug_port = 0;
    assert_int_equal(acpi_build(&d, t->buf, sizeof(t->buf), X86_ACPI_GPA,
                                &t->used), 0);
    f = xsdt_find(t, "FACP");
    dsdt = table_at(t, get64(f + 140), "DSDT");
    assert_null(find_bytes(dsdt, get32(dsdt + 4), "GED0", 4));
}

static void test_enospc(void **state)
{
    struct tables *t = *state;
    struct x86_platform_desc d;
    size_t used = 0, full;

    build(t, 8);
    full = t->used;
    x86_platform_desc_init(&d, 8);
    for (size_t size = 0; size < full; size++) {
        uint8_t *b = malloc(size ? size : 1);

        assert_non_null(b);
        assert_int_equal(acpi_build(&d, b, size, X86_ACPI_GPA, &used), -ENOSPC);
        free(b);
    }
    assert_int_equal(acpi_build(&d, t->buf, full, X86_ACPI_GPA, &used), 0);
    assert_int_equal(used, full);
}

static void test_einval(void **state)
{
    struct tables *t = *state;
    struct x86_platform_desc d;
    size_t used;

#define EXPECT_EINVAL(field, value, gpa)                                       \
    do {                                                                       \
        x86_platform_desc_init(&d, 1);                                         \
        d.field = (value);                                                     \
        assert_int_equal(acpi_build(&d, t->buf, BUF_SIZE, (gpa), &used),       \
                         -EINVAL);                                             \
    } while (0)

    EXPECT_EINVAL(ncpus, 0, X86_ACPI_GPA);
    EXPECT_EINVAL(ncpus, X86_MAX_CPUS + 1, X86_ACPI_GPA);
    EXPECT_EINVAL(ncpus, 1, X86_ACPI_GPA + 8);
    EXPECT_EINVAL(ioapic_gsi_base, 24, X86_ACPI_GPA);
    EXPECT_EINVAL(lapic_addr, 1ULL << 32, X86_ACPI_GPA);
    EXPECT_EINVAL(ioapic_addr, 1ULL << 32, X86_ACPI_GPA);
    EXPECT_EINVAL(ecam_base, X86_ECAM_BASE + 0x1000, X86_ACPI_GPA);
    EXPECT_EINVAL(ecam_base, 0xF8000000ULL, X86_ACPI_GPA); /* > 4 GiB */
    EXPECT_EINVAL(mmio32_size, 0, X86_ACPI_GPA);
    EXPECT_EINVAL(mmio32_size, 0x40000001ULL, X86_ACPI_GPA);
    EXPECT_EINVAL(mmio64_size, UINT64_MAX, X86_ACPI_GPA);
#undef EXPECT_EINVAL

    /* A smaller ECAM and no 64-bit window are fine. */
    x86_platform_desc_init(&d, 1);
    d.ecam_bus_end = 0;
    d.mmio64_size = 0;
    assert_int_equal(acpi_build(&d, t->buf, BUF_SIZE, 0, &used), 0);
}

/* AML encoder: exact encodings (ACPI 6.5 §20.2). */
static size_t aml_run(uint8_t *buf, size_t size, void (*fn)(struct aml *a),
                      int want)
{
    struct aml a;
    size_t len = 0;

    aml_init(&a, buf, size);
    fn(&a);
    assert_int_equal(aml_finish(&a, &len), want);
    return len;
}

static void aml_names(struct aml *a)
{
    aml_name(a, "\\_SB.PCI0");
    aml_integer(a, 0);
    aml_name(a, "_S5");
    aml_integer(a, 1);
    aml_name(a, "\\A.B.C");
    aml_integer(a, 2);
}

static void aml_ints(struct aml *a)
{
    aml_package_begin(a);
    aml_integer(a, 0x100);
    aml_integer(a, 0x10000);
    aml_integer(a, 1ULL << 32);
    aml_eisaid(a, "PNP0A03");
    aml_end(a);
}

static void aml_restemp(struct aml *a)
{
    aml_restemp_begin(a);
    aml_res_io(a, 0x3F8, 8);
    aml_end(a);
}

static void aml_big_package(struct aml *a)
{
    aml_package_begin(a);
    for (int i = 0; i < 100; i++)
        aml_integer(a, 0x10);
    aml_end(a);
}

static void test_aml_encoding(void **state)
{
    static const uint8_t names[] = {
        0x08, 0x5C, 0x2E, '_', 'S', 'B',  '_',  'P',  'C',  'I', '0',  0x00,
        0x08, '_',  'S',  '5', '_', 0x01, 0x08, 0x5C, 0x2F, 3,   'A',  '_',
        '_',  '_',  'B',  '_', '_', '_',  'C',  '_',  '_',  '_', 0x0A, 0x02,
    };
    static const uint8_t ints[] = {
        0x12, 0x18, 0x04, 0x0B, 0x00, 0x01, 0x0C, 0x00, 0x00,
        0x01, 0x00, 0x0E, 0,    0,    0,    0,    1,    0,
        0,    0,    0x0C, 0x41, 0xD0, 0x0A, 0x03,
    };
    static const uint8_t rt[] = {0x11, 0x0D, 0x0A, 0x0A, 0x47, 0x01, 0xF8,
                                 0x03, 0xF8, 0x03, 0x01, 0x08, 0x79, 0x00};
    uint8_t *buf = ((struct tables *)*state)->buf;
    size_t len;

    len = aml_run(buf, BUF_SIZE, aml_names, 0);
    assert_int_equal(len, sizeof(names));
    assert_memory_equal(buf, names, sizeof(names));
    len = aml_run(buf, BUF_SIZE, aml_ints, 0);
    assert_int_equal(len, sizeof(ints));
    assert_memory_equal(buf, ints, sizeof(ints));
    len = aml_run(buf, BUF_SIZE, aml_restemp, 0);
    assert_int_equal(len, sizeof(rt));
    assert_memory_equal(buf, rt, sizeof(rt));
    /* 1 + 200 content bytes + 2 PkgLength bytes = 203 = 0xCB. */
    len = aml_run(buf, BUF_SIZE, aml_big_package, 0);
    assert_int_equal(len, 1 + 2 + 1 + 200);
    assert_int_equal(buf[1], 0x40 | 0x0B);
    assert_int_equal(buf[2], 0x0C);
    assert_int_equal(buf[3], 100);
}

static void aml_bad_name(struct aml *a)
{
    aml_name(a, "TOOLONG");
}

static void aml_bad_lead_digit(struct aml *a)
{
    aml_device_begin(a, "1ABC");
    aml_end(a);
}

static void aml_unbalanced(struct aml *a)
{
    aml_device_begin(a, "DEV0");
}

static void aml_extra_end(struct aml *a)
{
    aml_end(a);
}

static void aml_res_outside(struct aml *a)
{
    aml_res_irq(a, 4);
}

static void aml_name_in_package(struct aml *a)
{
    aml_package_begin(a);
    aml_name(a, "FOO");
    aml_end(a);
}

static void aml_too_many(struct aml *a)
{
    aml_package_begin(a);
    for (int i = 0; i < 256; i++)
        aml_integer(a, 0);
    aml_end(a);
}

static void test_aml_errors(void **state)
{
    uint8_t *buf = ((struct tables *)*state)->buf;

    aml_run(buf, BUF_SIZE, aml_bad_name, -EINVAL);
    aml_run(buf, BUF_SIZE, aml_bad_lead_digit, -EINVAL);
    aml_run(buf, BUF_SIZE, aml_unbalanced, -EINVAL);
    aml_run(buf, BUF_SIZE, aml_extra_end, -EINVAL);
    aml_run(buf, BUF_SIZE, aml_res_outside, -EINVAL);
    aml_run(buf, BUF_SIZE, aml_name_in_package, -EINVAL);
    aml_run(buf, BUF_SIZE, aml_too_many, -EINVAL);
    /* Out of space while writing, and while inserting a PkgLength. */
    aml_run(buf, 5, aml_names, -ENOSPC);
    aml_run(buf, 12, aml_restemp, -ENOSPC);
    aml_run(buf, 13, aml_restemp, -ENOSPC);
    aml_run(buf, 14, aml_restemp, 0);
}

/* Write @len bytes at @p to @dir/@name. */
static void write_file(const char *dir, const char *name, const uint8_t *p,
                       size_t len)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Optional: iasl disassembles every table without errors, and the DSDT's
 * disassembly compiles back, without errors or warnings, to the same AML. */
static void test_iasl(void **state)
{
    static const char *const sigs[] = {"FACP", "APIC", "MCFG"};
    struct tables *t = *state;
    char dir[] = "/tmp/minivmm-acpi-XXXXXX";
    char cmd[512];
    const uint8_t *p;

    if (system("command -v iasl >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    build(t, 4);
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 3; i++) {
        char name[16];

        p = xsdt_find(t, sigs[i]);
        snprintf(name, sizeof(name), "%.4s.dat", sigs[i]);
        write_file(dir, name, p, get32(p + 4));
    }
    p = table_at(t, get64(xsdt_find(t, "FACP") + 140), "DSDT");
    write_file(dir, "dsdt.dat", p, get32(p + 4));
    /* Disassemble; recompile the DSDT without optimizations (-oa): its
     * AML must be byte-identical to ours (the header differs: creator). */
    snprintf(cmd, sizeof(cmd),
             "cd %s && iasl -d FACP.dat APIC.dat MCFG.dat dsdt.dat "
             ">log 2>&1 && ! grep -qi 'error\\|warning' *.dsl && "
             "iasl -oa -p re dsdt.dsl >>log 2>&1 && "
             "grep -q '0 Errors, 0 Warnings' log && "
             "cmp -i 36 dsdt.dat re.aml >>log 2>&1",
             dir);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/log", dir);
        (void)!system(cmd);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)!system(cmd);
    assert_int_equal(rc, 0);
}

/* One address window of the host bridge's _CRS, from iasl's text. */
struct crs_window {
    char kind[16]; /* WordIO, DWordMemory, QWordMemory */
    unsigned long long min, max;
};

/* Parse the windows out of a disassembled DSDT: each WordIO/DWordMemory/
 * QWordMemory descriptor, then its "Range Minimum" and "Range Maximum"
 * lines. Returns how many (at most @cap). */
static unsigned int crs_windows(FILE *f, struct crs_window *w,
                                unsigned int cap)
{
    char line[256];
    unsigned int n = 0;
    int state = 0; /* 1: want minimum, 2: want maximum */

    while (fgets(line, sizeof(line), f) && n < cap) {
        char *p = line + strspn(line, " \t");

        if (!strncmp(p, "WordIO (", 8) || !strncmp(p, "DWordMemory (", 13) ||
            !strncmp(p, "QWordMemory (", 13)) {
            snprintf(w[n].kind, sizeof(w[n].kind), "%.*s",
                     (int)strcspn(p, " ("), p);
            state = 1;
        } else if (state == 1 && strstr(p, "Range Minimum")) {
            w[n].min = strtoull(p, NULL, 16);
            state = 2;
        } else if (state == 2 && strstr(p, "Range Maximum")) {
            w[n++].max = strtoull(p, NULL, 16);
            state = 0;
        }
    }
    return n;
}

/* Whether [@base, @base + @size) is inside a window of @kind. */
static bool crs_covers(const struct crs_window *w, unsigned int n,
                       const char *kind, uint64_t base, uint64_t size)
{
    for (unsigned int i = 0; i < n; i++)
        if (!strcmp(w[i].kind, kind) && w[i].min <= base &&
            base + size - 1 <= w[i].max)
            return true;
    return false;
}

/* Optional (iasl): the host bridge's _CRS, as iasl disassembles it,
 * describes the windows the VMM places BARs in (docs/platform.md "PCI"):
 * I/O 0xC000-0xFFFF in a WordIO, the 32-bit window in a DWordMemory, the
 * 64-bit one in a QWordMemory; and no memory window covers ECAM, the
 * IOAPIC or the LAPIC. */
static void test_iasl_crs_windows(void **state)
{
    struct tables *t = *state;
    char dir[] = "/tmp/minivmm-crs-XXXXXX";
    struct crs_window w[16];
    char cmd[512];
    const uint8_t *p;
    unsigned int n;
    FILE *f;
    int rc;

    if (system("command -v iasl >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    build(t, 1);
    assert_non_null(mkdtemp(dir));
    p = table_at(t, get64(xsdt_find(t, "FACP") + 140), "DSDT");
    write_file(dir, "dsdt.dat", p, get32(p + 4));
    snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dsdt.dat >log 2>&1", dir);
    rc = system(cmd);
    snprintf(cmd, sizeof(cmd), "%s/dsdt.dsl", dir);
    f = rc == 0 ? fopen(cmd, "r") : NULL;
    n = f ? crs_windows(f, w, 16) : 0;
    if (f)
        fclose(f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)!system(cmd);
    assert_int_equal(rc, 0);
    assert_true(n >= 4);
    assert_true(crs_covers(w, n, "WordIO", X86_PCI_IO_BASE, X86_PCI_IO_SIZE));
    assert_true(crs_covers(w, n, "DWordMemory", X86_MMIO32_BASE,
                           X86_MMIO32_SIZE));
    assert_true(crs_covers(w, n, "QWordMemory", X86_MMIO64_BASE,
                           X86_MMIO64_SIZE));
    for (unsigned int i = 0; i < n; i++) {
        if (!strcmp(w[i].kind, "WordIO"))
            continue;
        assert_false(w[i].min < X86_ECAM_BASE + X86_ECAM_SIZE &&
                     X86_ECAM_BASE <= w[i].max);
        assert_false(w[i].min <= X86_IOAPIC_ADDR &&
                     X86_IOAPIC_ADDR <= w[i].max);
        assert_false(w[i].min <= X86_LAPIC_ADDR && X86_LAPIC_ADDR <= w[i].max);
    }
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct tables));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsdp),
        cmocka_unit_test(test_xsdt_tables),
        cmocka_unit_test(test_fadt),
        cmocka_unit_test(test_madt),
        cmocka_unit_test(test_mcfg),
        cmocka_unit_test(test_dsdt_content),
        cmocka_unit_test(test_dsdt_hotplug),
        cmocka_unit_test(test_enospc),
        cmocka_unit_test(test_einval),
        cmocka_unit_test(test_aml_encoding),
        cmocka_unit_test(test_aml_errors),
        cmocka_unit_test(test_iasl),
        cmocka_unit_test(test_iasl_crs_windows),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
