/* SPDX-License-Identifier: BSD-3-Clause */
/* ACPI table builder (see acpi.h). Table layouts: ACPI 6.5 §5.2; the DSDT
 * is encoded with aml.h. Little-endian host assumed (x86_64). */
#include "arch/x86/acpi.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/acpi_dmar.h"
#include "arch/x86/acpi_hotplug.h"
#include "arch/x86/aml.h"
#include "vmm/endian.h"

#define ACPI_OEM_ID "MINIVM"
#define ACPI_OEM_TABLE_ID "MVMM" /* + the table's signature */
#define ACPI_CREATOR_ID "MVMM"
#define ACPI_ALIGN 16

/* System Description Table Header (ACPI 6.5 §5.2.6). */
struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");

/* Root System Description Pointer, revision 2 (ACPI 6.5 §5.2.5.3). */
struct acpi_rsdp {
    char signature[8];
    uint8_t checksum; /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* over all 36 bytes */
    uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");

/* Generic Address Structure (ACPI 6.5 §5.2.3.2). */
struct acpi_gas {
    uint8_t space_id; /* 1: System I/O */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size; /* 1: byte */
    uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_IO8(port)                                                     \
    ((struct acpi_gas){                                                        \
        .space_id = 1, .bit_width = 8, .access_size = 1, .address = (port)})

/* Fixed ACPI Description Table, revision 6 (ACPI 6.5 §5.2.9, Table 5.9). */
struct acpi_fadt {
    struct acpi_header h;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t reserved0;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
    uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
    uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
    uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
    uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t minor_version;
    uint64_t x_firmware_ctrl;
    uint64_t x_dsdt;
    struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk;
    struct acpi_gas x_pm1b_cnt_blk, x_pm2_cnt_blk, x_pm_tmr_blk;
    struct acpi_gas x_gpe0_blk, x_gpe1_blk;
    struct acpi_gas sleep_control_reg, sleep_status_reg;
    uint64_t hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT");

/* FADT IAPC_BOOT_ARCH (§5.2.9.3) and Flags (Table 5.10). No 8042 flag:
 * our i8042 only resets, and without it Linux does not probe for a PS/2
 * controller. The CMOS RTC exists, so ACPI_BOOT_NO_CMOS_RTC stays clear. */
#define ACPI_BOOT_LEGACY_DEVICES 0x0001
#define ACPI_BOOT_VGA_NOT_PRESENT 0x0004
#define ACPI_FADT_WBINVD (1u << 0)
#define ACPI_FADT_PROC_C1 (1u << 2)
#define ACPI_FADT_PWR_BUTTON (1u << 4) /* no fixed power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5) /* no fixed sleep button */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED (1u << 20)

/* Multiple APIC Description Table (ACPI 6.5 §5.2.12) and entries. */
struct acpi_madt {
    struct acpi_header h;
    uint32_t lapic_address;
    uint32_t flags;
} __attribute__((packed));

struct madt_lapic { /* §5.2.12.2, type 0 */
    uint8_t type, length, processor_uid, apic_id;
    uint32_t flags;
} __attribute__((packed));

struct madt_ioapic { /* §5.2.12.3, type 1 */
    uint8_t type, length, ioapic_id, reserved;
    uint32_t address;
    uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso { /* §5.2.12.5, type 2 */
    uint8_t type, length, bus, source;
    uint32_t gsi;
    uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi { /* §5.2.12.7, type 4 */
    uint8_t type, length, processor_uid;
    uint16_t flags;
    uint8_t lint;
} __attribute__((packed));

#define MADT_PCAT_COMPAT 1
#define MADT_LAPIC_ENABLED 1
#define MADT_ALL_CPUS 0xFF

/* PCI Firmware Specification 3.2 §4.1.2: MCFG. */
struct acpi_mcfg {
    struct acpi_header h;
    uint8_t reserved[8];
    uint64_t base;
    uint16_t segment;
    uint8_t start_bus, end_bus;
    uint32_t reserved1;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG");

#define XSDT_ENTRIES 5 /* FADT, MADT, MCFG [, VIOT] [, DMAR] */

/* ACPI 6.5 §5.2.32: VIOT, its virtio-pci IOMMU node (type 3) and PCI
 * range nodes (type 1). */
#define VIOT_HDR_LEN   48u
#define VIOT_IOMMU_LEN 16u
#define VIOT_RANGE_LEN 24u

/* Where the tables go in the output buffer. */
struct cursor {
    uint8_t *buf;
    size_t size;
    size_t off; /* end of the last table */
    uint64_t gpa;
};

/* Start of the next table: 16-byte aligned, padding zeroed. NULL if
 * fewer than @len bytes are left; else *@room = bytes left from there. */
static uint8_t *cursor_next(struct cursor *c, size_t len, size_t *room)
{
    size_t at = (c->off + ACPI_ALIGN - 1) & ~(size_t)(ACPI_ALIGN - 1);

    if (at > c->size || c->size - at < len)
        return NULL;
    memset(c->buf + c->off, 0, at - c->off);
    *room = c->size - at;
    return c->buf + at;
}

/* The table at @p (from cursor_next()) is @len bytes long. */
static void cursor_commit(struct cursor *c, const uint8_t *p, size_t len)
{
    c->off = (size_t)(p - c->buf) + len;
}

/* cursor_next() + cursor_commit() for a table of known size. */
static uint8_t *cursor_take(struct cursor *c, size_t len)
{
    size_t room;
    uint8_t *p = cursor_next(c, len, &room);

    if (p)
        cursor_commit(c, p, len);
    return p;
}

static uint64_t cursor_gpa(const struct cursor *c, const uint8_t *p)
{
    return c->gpa + (uint64_t)(p - c->buf);
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

static void header_init(struct acpi_header *h, const char *sig, size_t len,
                        uint8_t rev)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->signature, sig, 4);
    h->length = (uint32_t)len;
    h->revision = rev;
    memcpy(h->oem_id, ACPI_OEM_ID, 6);
    memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 4);
    memcpy(h->oem_table_id + 4, sig, 4);
    h->oem_revision = 1;
    memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
    h->creator_revision = 1;
}

/* Set the checksum byte (offset 9) of the table at @p so it sums to 0. */
static void table_checksum(uint8_t *p)
{
    uint32_t len;

    memcpy(&len, p + offsetof(struct acpi_header, length), 4);
    p[offsetof(struct acpi_header, checksum)] = 0;
    p[offsetof(struct acpi_header, checksum)] = (uint8_t)-sum8(p, len);
}

static int desc_check(const struct x86_platform_desc *d, uint64_t gpa)
{
    if (d->viot && (!d->viot->neps || d->viot->neps > X86_VIOT_MAX_EPS))
        return -EINVAL;
    if (d->dmar && acpi_dmar_check(d->dmar))
        return -EINVAL;
    const uint64_t g4 = 1ULL << 32;
    uint64_t ecam_len = ((uint64_t)d->ecam_bus_end + 1) << 20;

    if (d->ncpus == 0 || d->ncpus > X86_MAX_CPUS || d->ioapic_gsi_base)
        return -EINVAL;
    if (d->lapic_addr >= g4 || d->ioapic_addr >= g4 || (gpa & 15))
        return -EINVAL;
    if ((d->ecam_base & 0xFFFFF) || d->ecam_base >= g4 ||
        g4 - d->ecam_base < ecam_len)
        return -EINVAL;
    if (!d->mmio32_size || d->mmio32_base >= g4 ||
        g4 - d->mmio32_base < d->mmio32_size)
        return -EINVAL;
    if (d->mmio64_size &&
        d->mmio64_base + (d->mmio64_size - 1) < d->mmio64_base)
        return -EINVAL;
    return 0;
}

/* Link devices GSIA-GSID (PNP0C0F) for GSIs 16-19, level, active-high.
 * Linux treats a _PRT entry naming a GSI directly as level/active-low, so
 * the polarity of docs/platform.md has to come from a link's _CRS. _SRS is
 * a no-op (the routing is fixed) but must exist for Linux to use it. */
static void dsdt_gsi_links(struct aml *a)
{
    static const char *const names[] = {"GSIA", "GSIB", "GSIC", "GSID"};
    static const char *const res[] = {"_PRS", "_CRS"};

    for (unsigned int i = 0; i < 4; i++) {
        aml_device_begin(a, names[i]);
        aml_name(a, "_HID");
        aml_eisaid(a, "PNP0C0F");
        aml_name(a, "_UID");
        aml_integer(a, i);
        for (unsigned int r = 0; r < 2; r++) {
            aml_name(a, res[r]);
            aml_restemp_begin(a);
            aml_res_ext_irq(a, X86_PCI_INTX_GSI_BASE + i, AML_IRQ_SHARED);
            aml_end(a);
        }
        aml_method_begin(a, "_SRS", 1);
        aml_end(a);
        aml_end(a);
    }
}

/* _PRT (ACPI 6.5 §6.2.13): slots 1-31, INTA-D -> link (S + P) % 4. */
static void dsdt_pci0_prt(struct aml *a)
{
    static const char *const links[] = {"\\_SB.GSIA", "\\_SB.GSIB",
                                        "\\_SB.GSIC", "\\_SB.GSID"};

    aml_name(a, "_PRT");
    aml_package_begin(a);
    for (unsigned int slot = 1; slot < 32; slot++) {
        for (unsigned int pin = 0; pin < 4; pin++) {
            aml_package_begin(a);
            aml_integer(a, (uint64_t)slot << 16 | 0xFFFF); /* any function */
            aml_integer(a, pin);
            aml_name_ref(a, links[(slot + pin) % 4]);
            aml_integer(a, 0); /* source index */
            aml_end(a);
        }
    }
    aml_end(a);
}

/* Host bridge resources: buses, config ports, I/O and MMIO windows. */
static void dsdt_pci0_crs(struct aml *a, const struct x86_platform_desc *d)
{
    aml_name(a, "_CRS");
    aml_restemp_begin(a);
    aml_res_bus_range(a, 0, d->ecam_bus_end);
    aml_res_io(a, X86_PCI_CONFIG_ADDR_PORT, 8);
    aml_res_io_range(a, 0x0000, X86_PCI_CONFIG_ADDR_PORT - 1);
    aml_res_io_range(a, X86_PCI_CONFIG_ADDR_PORT + 8, 0xFFFF);
    aml_res_mem32_range(a, (uint32_t)d->mmio32_base,
                        (uint32_t)(d->mmio32_base + d->mmio32_size - 1));
    if (d->mmio64_size)
        aml_res_mem64_range(a, d->mmio64_base,
                            d->mmio64_base + d->mmio64_size - 1);
    aml_end(a);
}

static void dsdt_pci0(struct aml *a, const struct x86_platform_desc *d)
{
    aml_device_begin(a, "PCI0");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0A08");
    aml_name(a, "_CID");
    aml_eisaid(a, "PNP0A03");
    aml_name(a, "_SEG");
    aml_integer(a, 0);
    aml_name(a, "_BBN");
    aml_integer(a, 0);
    aml_name(a, "_UID");
    aml_integer(a, 0);
    dsdt_pci0_crs(a, d);
    dsdt_pci0_prt(a);
    aml_end(a);
}

/* Motherboard resource (PNP0C02) reserving ECAM, which Linux wants before
 * it trusts the MCFG (else: "MMCONFIG ... not reserved in ACPI motherboard
 * resources"); and COM1. */
static void dsdt_misc(struct aml *a, const struct x86_platform_desc *d)
{
    aml_device_begin(a, "MRES");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0C02");
    aml_name(a, "_UID");
    aml_integer(a, 0);
    aml_name(a, "_CRS");
    aml_restemp_begin(a);
    aml_res_mem32_fixed(a, (uint32_t)d->ecam_base,
                        ((uint32_t)d->ecam_bus_end + 1) << 20);
    aml_end(a);
    aml_end(a);

    aml_device_begin(a, "COM1");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0501");
    aml_name(a, "_UID");
    aml_integer(a, 1);
    aml_name(a, "_CRS");
    aml_restemp_begin(a);
    aml_res_io(a, X86_COM1_PORT, 8);
    aml_res_irq(a, X86_COM1_IRQ);
    aml_end(a);
    aml_end(a);
}

/* DSDT (ACPI 6.5 §5.2.11.1), revision 2 (64-bit integers). *@len = bytes;
 * 0 or -ENOSPC. */
static int build_dsdt(const struct x86_platform_desc *d, uint8_t *p,
                      size_t room, size_t *len)
{
    struct acpi_header h;
    struct aml a;
    size_t aml_len;
    int ret;

    if (room < sizeof(h))
        return -ENOSPC;
    aml_init(&a, p + sizeof(h), room - sizeof(h));
    /* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved (§7.4.2). */
    aml_name(&a, "_S5");
    aml_package_begin(&a);
    aml_integer(&a, X86_SLP_TYP_S5);
    aml_integer(&a, X86_SLP_TYP_S5);
    aml_integer(&a, 0);
    aml_integer(&a, 0);
    aml_end(&a);
    aml_scope_begin(&a, "\\_SB");
    dsdt_gsi_links(&a);
    dsdt_pci0(&a, d);
    dsdt_misc(&a, d);
    acpi_dsdt_hotplug(&a, d);
    aml_end(&a);
    ret = aml_finish(&a, &aml_len);
    if (ret < 0)
        return ret;
    *len = sizeof(h) + aml_len;
    header_init(&h, "DSDT", *len, 2);
    memcpy(p, &h, sizeof(h));
    table_checksum(p);
    return 0;
}

/* FADT for hardware-reduced ACPI: no PM1/GPE blocks, no SCI, no FACS. */
static void build_fadt(const struct x86_platform_desc *d, uint8_t *p,
                       uint64_t dsdt_gpa)
{
    struct acpi_fadt f;

    memset(&f, 0, sizeof(f));
    header_init(&f.h, "FACP", sizeof(f), 6);
    f.iapc_boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_VGA_NOT_PRESENT;
    f.flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_PWR_BUTTON |
              ACPI_FADT_SLP_BUTTON | ACPI_FADT_RESET_REG_SUP |
              ACPI_FADT_HW_REDUCED;
    f.reset_reg = ACPI_GAS_IO8(d->reset_port);
    f.reset_value = d->reset_value;
    f.minor_version = 5;
    f.x_dsdt = dsdt_gpa;
    f.sleep_control_reg = ACPI_GAS_IO8(d->sleep_ctl_port);
    f.sleep_status_reg = ACPI_GAS_IO8(d->sleep_sts_port);
    memcpy(p, &f, sizeof(f));
    table_checksum(p);
}

static size_t madt_size(const struct x86_platform_desc *d)
{
    return sizeof(struct acpi_madt) + d->ncpus * sizeof(struct madt_lapic) +
           sizeof(struct madt_ioapic) + sizeof(struct madt_iso) +
           sizeof(struct madt_lapic_nmi);
}

/* MADT revision 5: one enabled LAPIC per CPU, the IOAPIC, ISA IRQ0 ->
 * GSI 2 (flags 0: conforms to the ISA bus, edge/high), NMI on LINT1. */
static void build_madt(const struct x86_platform_desc *d, uint8_t *p)
{
    struct acpi_madt m;
    struct madt_ioapic io = {.type = 1,
                             .length = sizeof(io),
                             .ioapic_id = d->ioapic_id,
                             .address = (uint32_t)d->ioapic_addr,
                             .gsi_base = d->ioapic_gsi_base};
    struct madt_iso iso = {.type = 2,
                           .length = sizeof(iso),
                           .bus = 0, /* ISA */
                           .source = X86_PIT_IRQ,
                           .gsi = X86_PIT_GSI};
    struct madt_lapic_nmi nmi = {.type = 4,
                                 .length = sizeof(nmi),
                                 .processor_uid = MADT_ALL_CPUS,
                                 .lint = 1};
    size_t off = sizeof(m);

    header_init(&m.h, "APIC", madt_size(d), 5);
    m.lapic_address = (uint32_t)d->lapic_addr;
    m.flags = MADT_PCAT_COMPAT;
    memcpy(p, &m, sizeof(m));
    for (unsigned int i = 0; i < d->ncpus; i++) {
        struct madt_lapic l = {.type = 0,
                               .length = sizeof(l),
                               .processor_uid = (uint8_t)i,
                               .apic_id = (uint8_t)i,
                               .flags = MADT_LAPIC_ENABLED};

        memcpy(p + off, &l, sizeof(l));
        off += sizeof(l);
    }
    memcpy(p + off, &io, sizeof(io));
    off += sizeof(io);
    memcpy(p + off, &iso, sizeof(iso));
    off += sizeof(iso);
    memcpy(p + off, &nmi, sizeof(nmi));
    table_checksum(p);
}

static void build_mcfg(const struct x86_platform_desc *d, uint8_t *p)
{
    struct acpi_mcfg m;

    memset(&m, 0, sizeof(m));
    header_init(&m.h, "MCFG", sizeof(m), 1);
    m.base = d->ecam_base;
    m.segment = 0;
    m.start_bus = 0;
    m.end_bus = d->ecam_bus_end;
    memcpy(p, &m, sizeof(m));
    table_checksum(p);
}

static size_t viot_size(const struct x86_viot *v)
{
    return VIOT_HDR_LEN + VIOT_IOMMU_LEN + VIOT_RANGE_LEN * v->neps;
}

/* One PCI range node per endpoint (bdf_start = bdf_end = endpoint ID),
 * all pointing at the one IOMMU node, which comes first. */
static void build_viot(const struct x86_viot *v, uint8_t *p)
{
    struct acpi_header h;
    uint8_t *n = p + VIOT_HDR_LEN;

    header_init(&h, "VIOT", viot_size(v), 0);
    memset(p, 0, viot_size(v));
    memcpy(p, &h, sizeof(h));
    le16_store(p + 36, (uint16_t)(1 + v->neps));    /* node count */
    le16_store(p + 38, VIOT_HDR_LEN);               /* node offset */
    n[0] = 3;                                       /* virtio-pci IOMMU */
    le16_store(n + 2, VIOT_IOMMU_LEN);
    le16_store(n + 6, v->iommu_bdf);                /* segment 0 */
    n += VIOT_IOMMU_LEN;
    for (unsigned int i = 0; i < v->neps; i++, n += VIOT_RANGE_LEN) {
        n[0] = 1;                                   /* PCI range */
        le16_store(n + 2, VIOT_RANGE_LEN);
        le32_store(n + 4, v->eps[i]);               /* endpoint start */
        le16_store(n + 12, v->eps[i]);              /* BDF start */
        le16_store(n + 14, v->eps[i]);              /* BDF end */
        le16_store(n + 16, VIOT_HDR_LEN);           /* output node */
    }
    table_checksum(p);
}

/* DMAR (VT-d spec 8.1): revision 1, the body from acpi_dmar.c. */
static void build_dmar(const struct x86_dmar *d, uint8_t *p)
{
    struct acpi_header h;

    header_init(&h, "DMAR", ACPI_DMAR_LEN, 1);
    memcpy(p, &h, sizeof(h));
    acpi_dmar_body(d, p);
    table_checksum(p);
}

/* XSDT (§5.2.8) listing @n table GPAs. */
static void build_xsdt(uint8_t *p, const uint64_t *gpas, size_t n)
{
    struct acpi_header h;

    header_init(&h, "XSDT", sizeof(h) + 8 * n, 1);
    memcpy(p, &h, sizeof(h));
    memcpy(p + sizeof(h), gpas, 8 * n);
    table_checksum(p);
}

static void build_rsdp(uint8_t *p, uint64_t xsdt_gpa)
{
    struct acpi_rsdp r;

    memset(&r, 0, sizeof(r));
    memcpy(r.signature, "RSD PTR ", 8);
    memcpy(r.oem_id, ACPI_OEM_ID, 6);
    r.revision = 2;
    r.length = sizeof(r);
    r.xsdt_address = xsdt_gpa;
    r.checksum = (uint8_t)-sum8((const uint8_t *)&r, 20);
    r.extended_checksum = (uint8_t)-sum8((const uint8_t *)&r, sizeof(r));
    memcpy(p, &r, sizeof(r));
}

int acpi_build(const struct x86_platform_desc *d, uint8_t *buf, size_t size,
               uint64_t gpa, size_t *used)
{
    struct cursor c = {buf, size, sizeof(struct acpi_rsdp), gpa};
    const size_t nx = 3 + !!d->viot + !!d->dmar;
    const size_t xsdt_len = sizeof(struct acpi_header) + 8 * nx;
    uint8_t *xsdt, *fadt, *dsdt = NULL, *madt, *mcfg = NULL, *viot = NULL,
            *dmar = NULL;
    uint64_t gpas[XSDT_ENTRIES];
    size_t room, len;
    int ret = desc_check(d, gpa);

    if (ret < 0)
        return ret;
    if (size < sizeof(struct acpi_rsdp))
        return -ENOSPC;
    xsdt = cursor_take(&c, xsdt_len);
    fadt = xsdt ? cursor_take(&c, sizeof(struct acpi_fadt)) : NULL;
    if (fadt)
        dsdt = cursor_next(&c, sizeof(struct acpi_header), &room);
    if (!dsdt)
        return -ENOSPC;
    ret = build_dsdt(d, dsdt, room, &len);
    if (ret < 0)
        return ret;
    cursor_commit(&c, dsdt, len);
    madt = cursor_take(&c, madt_size(d));
    if (madt)
        mcfg = cursor_take(&c, sizeof(struct acpi_mcfg));
    if (mcfg && d->viot)
        viot = cursor_take(&c, viot_size(d->viot));
    if (mcfg && d->dmar)
        dmar = cursor_take(&c, ACPI_DMAR_LEN);
    if (!mcfg || (d->viot && !viot) || (d->dmar && !dmar))
        return -ENOSPC;

    build_madt(d, madt);
    build_mcfg(d, mcfg);
    build_fadt(d, fadt, cursor_gpa(&c, dsdt));
    gpas[0] = cursor_gpa(&c, fadt);
    gpas[1] = cursor_gpa(&c, madt);
    gpas[2] = cursor_gpa(&c, mcfg);
    if (viot) {
        build_viot(d->viot, viot);
        gpas[3] = cursor_gpa(&c, viot);
    }
    if (dmar) {
        build_dmar(d->dmar, dmar);
        gpas[viot ? 4 : 3] = cursor_gpa(&c, dmar);
    }
    build_xsdt(xsdt, gpas, nx);
    build_rsdp(buf, cursor_gpa(&c, xsdt));
    *used = c.off;
    return 0;
}
