/* SPDX-License-Identifier: BSD-3-Clause */
/* The fixed x86 guest platform (docs/platform.md) as constants, shared by
 * the VMM, the devices and the firmware-table builders, plus the platform
 * description those builders take (struct x86_platform_desc). Addresses are
 * guest-physical (GPA) in bytes; ports are I/O port numbers. */
#ifndef MINIVMM_X86_PLATFORM_H
#define MINIVMM_X86_PLATFORM_H

#include <stdint.h>

/* Firmware tables: 0xE0000-0xFFFFF (e820 reserved). ACPI (RSDP first, so an
 * OS scanning 0xE0000-0xFFFFF on 16-byte boundaries finds it) in the first
 * 64 KiB, the MP floating pointer + config table in the second. */
#define X86_ACPI_GPA 0xE0000ULL
#define X86_ACPI_MAX_SIZE 0x10000U
#define X86_MPTABLE_GPA 0xF0000ULL
#define X86_MPTABLE_MAX_SIZE 0x10000U

/* Memory-mapped interrupt controllers (KVM in-kernel). */
#define X86_IOAPIC_ADDR 0xFEC00000ULL
#define X86_IOAPIC_ID 0 /* KVM's IOAPIC ID register after reset */
#define X86_IOAPIC_GSI_BASE 0
#define X86_IOAPIC_NR_PINS 24
#define X86_LAPIC_ADDR 0xFEE00000ULL
#define X86_MAX_CPUS 255 /* APIC IDs 0..254; 255 is broadcast */

/* PCI: ECAM and the host bridge's MMIO windows. (X86_ECAM_BASE/SIZE are
 * also in arch/x86/layout.h, with the same values.) */
#ifndef X86_ECAM_BASE
#define X86_ECAM_BASE 0xE0000000ULL
#endif
#ifndef X86_ECAM_SIZE
#define X86_ECAM_SIZE 0x10000000ULL
#endif
#define X86_ECAM_BUS_END 255 /* 1 MiB of ECAM per bus */
#define X86_MMIO32_BASE 0xC0000000ULL
#define X86_MMIO32_SIZE 0x20000000ULL
#define X86_MMIO64_BASE 0x8000000000ULL
#define X86_MMIO64_SIZE 0x8000000000ULL
/* I/O ports the VMM places I/O BARs in (inside the host bridge's WordIO
 * window 0x0D00-0xFFFF of the DSDT), like SeaBIOS's 0xC000 upward. */
#define X86_PCI_IO_BASE 0xC000U
#define X86_PCI_IO_SIZE 0x4000U

/* Interrupts. ISA IRQ n is GSI n (edge, active-high), except IRQ 0 (PIT),
 * which is GSI 2. PCI INTx of slot S, pin P (INTA = 0) is GSI
 * X86_PCI_INTX_GSI_BASE + (S + P) % 4, level, active-high. */
#define X86_PIT_IRQ 0
#define X86_PIT_GSI 2
#define X86_PCI_INTX_GSI_BASE 16
#define X86_MSI_GSI_BASE 24

/* Legacy I/O ports. */
#define X86_COM1_PORT 0x3F8
#define X86_COM1_IRQ 4
#define X86_RTC_PORT 0x70 /* index; data at 0x71 */
#define X86_RTC_IRQ 8
#define X86_I8042_DATA_PORT 0x60
#define X86_I8042_CMD_PORT 0x64
#define X86_I8042_CMD_RESET 0xFE
#define X86_PCI_CONFIG_ADDR_PORT 0xCF8
#define X86_PCI_CONFIG_DATA_PORT 0xCFC
#define X86_TEST_EXIT_PORT 0xF4

/* Hardware-reduced ACPI sleep and reset registers (ACPI 6.5 §4.8.3.7,
 * §4.8.3.6). Writing X86_SLP_EN | X86_SLP_TYP_S5 << X86_SLP_TYP_SHIFT to the
 * sleep control port powers off; reads of the status port return WAK_STS.
 * A write to the reset port with bit 2 set resets. */
#define X86_SLEEP_CTL_PORT 0x600
#define X86_SLEEP_STS_PORT 0x601
#define X86_SLP_TYP_SHIFT 2
#define X86_SLP_TYP_MASK 0x1C
#define X86_SLP_EN 0x20
#define X86_SLP_TYP_S5 5
#define X86_WAK_STS 0x80
#define X86_RESET_PORT 0xCF9
#define X86_RESET_VALUE 0x06
#define X86_RESET_BIT 0x04

/* PCI hotplug and the ACPI Generic Event Device (docs/platform.md, "PCI
 * hotplug"): a block of 32-bit registers at X86_HOTPLUG_PORT read by the
 * DSDT's methods (arch/x86/acpi_hotplug.c) and by the test payloads, and
 * the GED's interrupt, level-triggered, active-high (asserted while its
 * event register is non-zero). */
#define X86_HOTPLUG_PORT 0x620
#define X86_HOTPLUG_LEN 0x14
#define X86_HOTPLUG_PCIU 0x00 /* slots added; read clears */
#define X86_HOTPLUG_PCID 0x04 /* slots the host asks to eject; read clears */
#define X86_HOTPLUG_B0EJ 0x08 /* write 1 << slot: the guest released it */
#define X86_HOTPLUG_PRES 0x0C /* slots holding a device (read-only) */
#define X86_HOTPLUG_GED 0x10  /* GED events; read clears */
#define X86_GED_EV_PCI 0x1    /*   a PCIU/PCID bit is pending */
#define X86_GED_EV_POWER 0x2  /*   the power button was pressed */
#define X86_GED_GSI 20

/* What the firmware tables describe (acpi_build(), mptable_build()). All
 * addresses are GPAs in bytes. */
/* ACPI VIOT (ACPI 6.5 §5.2.32): a virtio-iommu on PCI and the functions
 * it translates for (segment 0, endpoint ID = BDF). */
#define X86_VIOT_MAX_EPS 32u
struct x86_viot {
    uint16_t iommu_bdf;
    unsigned int neps;              /* 1..X86_VIOT_MAX_EPS */
    uint16_t eps[X86_VIOT_MAX_EPS]; /* BDFs */
};

/* ACPI DMAR (Intel VT-d spec 4.x, chapter 8): one DMA remapping hardware
 * unit (DRHD) for every PCI device of segment 0 (INCLUDE_PCI_ALL), no
 * RMRR, no interrupt remapping (flags 0). arch/x86/acpi_dmar.c. */
struct x86_dmar {
    unsigned int aw_bits;   /* host address width in bits (32..64); the
                             * table holds aw_bits - 1 */
    uint64_t drhd_base;     /* register base, 4 KiB aligned, below 4 GiB */
};

struct x86_platform_desc {
    const struct x86_viot *viot; /* NULL: no VIOT table */
    const struct x86_dmar *dmar; /* NULL: no DMAR table */
    unsigned int ncpus;   /* 1..X86_MAX_CPUS; APIC IDs 0..ncpus-1 */
    uint64_t lapic_addr;  /* below 4 GiB */
    uint64_t ioapic_addr; /* below 4 GiB */
    uint8_t ioapic_id;
    uint32_t ioapic_gsi_base; /* must be 0: ISA IRQs are GSIs 0-15 */
    uint64_t ecam_base;       /* 1 MiB aligned; ECAM ends below 4 GiB */
    uint8_t ecam_bus_end;     /* buses 0..ecam_bus_end */
    uint64_t mmio32_base;     /* 32-bit BAR window, ends below 4 GiB */
    uint64_t mmio32_size;     /* > 0 */
    uint64_t mmio64_base;     /* 64-bit BAR window */
    uint64_t mmio64_size;     /* 0: no 64-bit window */
    uint16_t sleep_ctl_port;  /* 8-bit ACPI SLEEP_CONTROL_REG */
    uint16_t sleep_sts_port;  /* 8-bit ACPI SLEEP_STATUS_REG */
    uint16_t reset_port;      /* 8-bit ACPI RESET_REG */
    uint8_t reset_value;
    uint16_t hotplug_port;    /* X86_HOTPLUG_* registers; 0: no hotplug,
                               * no GED, no power button */
    uint32_t ged_gsi;         /* the GED's interrupt (an IOAPIC pin) */
};

/* Fill @d with the docs/platform.md values for @ncpus vCPUs. */
static inline void x86_platform_desc_init(struct x86_platform_desc *d,
                                          unsigned int ncpus)
{
    *d = (struct x86_platform_desc){
        .ncpus = ncpus,
        .lapic_addr = X86_LAPIC_ADDR,
        .ioapic_addr = X86_IOAPIC_ADDR,
        .ioapic_id = X86_IOAPIC_ID,
        .ioapic_gsi_base = X86_IOAPIC_GSI_BASE,
        .ecam_base = X86_ECAM_BASE,
        .ecam_bus_end = X86_ECAM_BUS_END,
        .mmio32_base = X86_MMIO32_BASE,
        .mmio32_size = X86_MMIO32_SIZE,
        .mmio64_base = X86_MMIO64_BASE,
        .mmio64_size = X86_MMIO64_SIZE,
        .sleep_ctl_port = X86_SLEEP_CTL_PORT,
        .sleep_sts_port = X86_SLEEP_STS_PORT,
        .reset_port = X86_RESET_PORT,
        .reset_value = X86_RESET_VALUE,
        .hotplug_port = X86_HOTPLUG_PORT,
        .ged_gsi = X86_GED_GSI,
    };
}

/* GSI of PCI INTx: @slot 0..31, @pin 0..3 (INTA..INTD). */
static inline uint32_t x86_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
    return X86_PCI_INTX_GSI_BASE + (slot + pin) % 4;
}

#endif
