/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI configuration space through mechanism #1 (ports 0xCF8/0xCFC) or
 * ECAM (MMIO, 1 MiB per bus), and BAR helpers.
 */
#ifndef GUEST_LIB_PCI_H
#define GUEST_LIB_PCI_H

#include <stdint.h>

#define PCI_ECAM_BASE     0xE0000000ULL  /* docs/platform.md */
#define PCI_MMIO32_BASE   0xC0000000ULL
#define PCI_MMIO64_BASE   0x8000000000ULL

#define PCI_VENDOR_ID     0x00
#define PCI_DEVICE_ID     0x02
#define PCI_COMMAND       0x04
#define PCI_STATUS        0x06
#define PCI_REVISION      0x08           /* class code in bits 31:8 */
#define PCI_HEADER_TYPE   0x0E
#define PCI_BAR0          0x10
#define PCI_CAP_PTR       0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN 0x3D

#define PCI_CMD_IO        0x1
#define PCI_CMD_MEM       0x2
#define PCI_CMD_MASTER    0x4
#define PCI_CMD_INTX_DISABLE 0x400
#define PCI_STATUS_CAP    0x10

/* One function's address and the access method to use. */
enum pci_method { PCI_CF8, PCI_ECAM };

struct pci_addr {
    uint8_t bus, dev, fn;
};

/* Select the ECAM base (default PCI_ECAM_BASE). */
void pci_set_ecam_base(uint64_t base);
uint64_t pci_ecam_base(void);

uint32_t pci_read32(enum pci_method m, struct pci_addr a, unsigned int off);
uint16_t pci_read16(enum pci_method m, struct pci_addr a, unsigned int off);
uint8_t pci_read8(enum pci_method m, struct pci_addr a, unsigned int off);
void pci_write32(enum pci_method m, struct pci_addr a, unsigned int off,
                 uint32_t v);
void pci_write16(enum pci_method m, struct pci_addr a, unsigned int off,
                 uint16_t v);
void pci_write8(enum pci_method m, struct pci_addr a, unsigned int off,
                uint8_t v);

/* A decoded BAR. */
struct pci_bar {
    uint64_t addr;  /* current base */
    uint64_t size;  /* 0: BAR not implemented */
    int io;         /* I/O space BAR */
    int is64;       /* 64-bit memory BAR (uses the next slot too) */
    int prefetch;
};

/*
 * Size BAR idx (0-5) by writing all-ones and restoring it; memory/IO
 * decoding is turned off meanwhile. Returns 0 or -EINVAL.
 */
int pci_bar_probe(enum pci_method m, struct pci_addr a, unsigned int idx,
                  struct pci_bar *bar);

/* Program BAR idx (and its upper half if 64-bit) to addr. */
void pci_bar_set(enum pci_method m, struct pci_addr a, unsigned int idx,
                 const struct pci_bar *bar, uint64_t addr);

/*
 * Simple bump allocator over [base, limit): returns in *addr the next
 * naturally aligned address for size. 0 or -ENOSPC.
 */
struct pci_window {
    uint64_t next, limit;
};
int pci_window_alloc(struct pci_window *w, uint64_t size, uint64_t *addr);

/* Offset of capability id in the capability list, or 0 if absent. */
unsigned int pci_find_cap(enum pci_method m, struct pci_addr a, uint8_t id);

#endif
