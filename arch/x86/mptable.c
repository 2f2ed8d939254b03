/* SPDX-License-Identifier: BSD-3-Clause */
/* MP table builder (see mptable.h). Structures: Intel MultiProcessor
 * Specification 1.4, §4.1 (floating pointer), §4.2 (configuration table
 * header), §4.3 (base table entries). Little-endian host assumed. */
#include "arch/x86/mptable.h"

#include <errno.h>
#include <string.h>

#define MP_SPEC_REV 4          /* version 1.4 */
#define MP_APIC_VERSION 0x14   /* integrated local APIC (KVM) */
#define MP_IOAPIC_VERSION 0x11 /* KVM's in-kernel IOAPIC */
#define MP_CPU_SIGNATURE 0x600 /* family 6 */
#define MP_CPU_FEATURES 0x201  /* CPUID.1:EDX FPU | APIC */
#define MP_ISA_IRQS 16
#define MP_PCI_SLOTS 32
#define MP_ALL_APICS 0xFF

/* Table 4-10: PO (bits 1:0) 01 = active high; EL (bits 3:2) 11 = level. */
#define MP_IRQ_CONFORMING 0x0
#define MP_IRQ_PCI_FLAGS 0xD

enum mp_entry_type {
    MP_PROCESSOR = 0,
    MP_BUS = 1,
    MP_IOAPIC = 2,
    MP_INTSRC = 3,
    MP_LINTSRC = 4,
};

enum mp_irq_type { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };

struct mpf_intel {     /* §4.1, Table 4-1 */
    char signature[4]; /* "_MP_" */
    uint32_t physptr;  /* GPA of the configuration table */
    uint8_t length;    /* in 16-byte units: 1 */
    uint8_t specification;
    uint8_t checksum;
    uint8_t feature[5]; /* 0: config table present; PIC mode off */
} __attribute__((packed));
_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer");

struct mpc_table {     /* §4.2, Table 4-2 */
    char signature[4]; /* "PCMP" */
    uint16_t length;   /* base table, header included */
    uint8_t spec;
    uint8_t checksum;
    char oem[8];
    char productid[12];
    uint32_t oemptr;
    uint16_t oemsize;
    uint16_t oemcount; /* entry count */
    uint32_t lapic;
    uint16_t ext_length;
    uint8_t ext_checksum;
    uint8_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_table) == 44, "MP config header");

struct mpc_cpu {                            /* Table 4-4 */
    uint8_t type, apicid, apicver, cpuflag; /* cpuflag: 1 EN, 2 BP */
    uint32_t cpufeature;
    uint32_t featureflag;
    uint32_t reserved[2];
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry");

struct mpc_bus { /* Table 4-7 */
    uint8_t type, busid;
    char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {                       /* Table 4-8 */
    uint8_t type, apicid, apicver, flags; /* flags: 1 EN */
    uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc { /* Table 4-9 (I/O) and 4-11 (local) */
    uint8_t type, irqtype;
    uint16_t irqflag;
    uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_intsrc) == 8, "MP interrupt entry");

#define MP_NR_8BYTE_ENTRIES                                                    \
    (2 + 1 + (MP_ISA_IRQS - 1) + (MP_PCI_SLOTS - 1) * 4 + 2)

struct mp_out {
    uint8_t *p; /* the configuration table */
    size_t off;
    unsigned int count;
};

static void put(struct mp_out *o, const void *e, size_t len)
{
    memcpy(o->p + o->off, e, len);
    o->off += len;
    o->count++;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

static size_t config_size(const struct x86_platform_desc *d)
{
    return sizeof(struct mpc_table) + d->ncpus * sizeof(struct mpc_cpu) +
           MP_NR_8BYTE_ENTRIES * sizeof(struct mpc_intsrc);
}

static void put_cpus_buses_ioapic(struct mp_out *o,
                                  const struct x86_platform_desc *d)
{
    struct mpc_bus pci = {MP_BUS, MPTABLE_BUS_PCI, {0}};
    struct mpc_bus isa = {MP_BUS, MPTABLE_BUS_ISA, {0}};
    struct mpc_ioapic io = {MP_IOAPIC, d->ioapic_id, MP_IOAPIC_VERSION, 1,
                            (uint32_t)d->ioapic_addr};

    memcpy(pci.bustype, "PCI   ", 6);
    memcpy(isa.bustype, "ISA   ", 6);
    for (unsigned int i = 0; i < d->ncpus; i++) {
        struct mpc_cpu c = {
            .type = MP_PROCESSOR,
            .apicid = (uint8_t)i,
            .apicver = MP_APIC_VERSION,
            .cpuflag = (uint8_t)(1 | (i == 0 ? 2 : 0)),
            .cpufeature = MP_CPU_SIGNATURE,
            .featureflag = MP_CPU_FEATURES,
        };

        put(o, &c, sizeof(c));
    }
    put(o, &pci, sizeof(pci));
    put(o, &isa, sizeof(isa));
    put(o, &io, sizeof(io));
}

static void put_irqs(struct mp_out *o, const struct x86_platform_desc *d)
{
    struct mpc_intsrc e = {
        MP_INTSRC,    MP_INT, MP_IRQ_CONFORMING, MPTABLE_BUS_ISA, 0,
        d->ioapic_id, 0};

    for (unsigned int irq = 0; irq < MP_ISA_IRQS; irq++) {
        if (irq == 2)
            continue; /* cascade; INTIN 2 belongs to IRQ 0 */
        e.srcbusirq = (uint8_t)irq;
        e.dstirq = (uint8_t)(irq == X86_PIT_IRQ ? X86_PIT_GSI : irq);
        put(o, &e, sizeof(e));
    }
    e.srcbus = MPTABLE_BUS_PCI;
    e.irqflag = MP_IRQ_PCI_FLAGS;
    for (unsigned int slot = 1; slot < MP_PCI_SLOTS; slot++) {
        for (unsigned int pin = 0; pin < 4; pin++) {
            e.srcbusirq = (uint8_t)(slot << 2 | pin); /* §D.3 */
            e.dstirq = (uint8_t)x86_pci_intx_gsi(slot, pin);
            put(o, &e, sizeof(e));
        }
    }
}

static void put_lints(struct mp_out *o)
{
    struct mpc_intsrc lint0 = {
        MP_LINTSRC,   MP_EXTINT, MP_IRQ_CONFORMING, MPTABLE_BUS_ISA, 0,
        MP_ALL_APICS, 0};
    struct mpc_intsrc lint1 = {
        MP_LINTSRC,   MP_NMI, MP_IRQ_CONFORMING, MPTABLE_BUS_ISA, 0,
        MP_ALL_APICS, 1};

    put(o, &lint0, sizeof(lint0));
    put(o, &lint1, sizeof(lint1));
}

static int desc_check(const struct x86_platform_desc *d, uint64_t gpa)
{
    const uint64_t g4 = 1ULL << 32;

    if (d->ncpus == 0 || d->ncpus > X86_MAX_CPUS || d->ioapic_gsi_base)
        return -EINVAL;
    if (d->lapic_addr >= g4 || d->ioapic_addr >= g4 || (gpa & 15))
        return -EINVAL;
    if (gpa >= g4 || g4 - gpa < sizeof(struct mpf_intel) + config_size(d))
        return -EINVAL;
    return 0;
}

int mptable_build(const struct x86_platform_desc *d, uint8_t *buf, size_t size,
                  uint64_t gpa, size_t *used)
{
    struct mpf_intel mpf = {.length = 1, .specification = MP_SPEC_REV};
    struct mpc_table mpc = {.spec = MP_SPEC_REV};
    struct mp_out o = {buf + sizeof(mpf), sizeof(mpc), 0};
    size_t total;
    int ret = desc_check(d, gpa);

    if (ret < 0)
        return ret;
    total = sizeof(mpf) + config_size(d);
    if (size < total)
        return -ENOSPC;
    memcpy(mpf.signature, "_MP_", 4);
    memcpy(mpc.signature, "PCMP", 4);
    memcpy(mpc.oem, "MINIVMM ", 8);
    memcpy(mpc.productid, "MINIVMM     ", 12);
    put_cpus_buses_ioapic(&o, d);
    put_irqs(&o, d);
    put_lints(&o);

    mpc.length = (uint16_t)o.off;
    mpc.oemcount = (uint16_t)o.count;
    mpc.lapic = (uint32_t)d->lapic_addr;
    memcpy(o.p, &mpc, sizeof(mpc));
    o.p[offsetof(struct mpc_table, checksum)] = (uint8_t)-sum8(o.p, o.off);

    mpf.physptr = (uint32_t)(gpa + sizeof(mpf));
    mpf.checksum = (uint8_t)-sum8((const uint8_t *)&mpf, sizeof(mpf));
    memcpy(buf, &mpf, sizeof(mpf));
    *used = total;
    return 0;
}
