/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI host bridge 00:00.0 and the two config access mechanisms of
 * docs/platform.md: configuration mechanism #1 (ports 0xCF8-0xCFF) and
 * ECAM (the MMCONFIG window, PCIe Base 4.0 §7.2.2).
 *
 * Mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2): a 4-byte access at 0xCF8 is
 * the CONFIG_ADDRESS register (bit 31 enable, bus 23:16, device 15:11,
 * function 10:8, dword register 7:2; reserved bits 30:24 and 1:0 read 0).
 * Accesses of 1, 2 or 4 bytes at 0xCFC + k (naturally aligned within the
 * dword) reach config byte (CONFIG_ADDRESS & 0xFC) + k. With the enable bit
 * clear, or for an unaligned access, reads return all-ones and writes are
 * ignored; so only the first 256 bytes are reachable this way. A byte
 * access at 0xCF9 is the reset control register, which belongs to sysctl:
 * it is forwarded to cfg->cf9_ops. Other accesses at 0xCF8-0xCFB read
 * all-ones and are ignored (so byte probes for mechanism #2 fail).
 *
 * ECAM: offset = bus << 20 | device << 15 | function << 12 | register, any
 * of the 4 KiB; 1-, 2-, 4-byte naturally aligned accesses (8-byte aligned
 * accesses are split into two dwords). Absent functions (and buses other
 * than 0) read all-ones.
 */
#ifndef MINIVMM_PCI_HOST_H
#define MINIVMM_PCI_HOST_H

#include "devices/pci.h"
#include "vmm/bus.h"
#include "vmm/state.h"

#define PCI_HOST_PIO_BASE 0xCF8
#define PCI_HOST_PIO_LEN  8
#define PCI_HOST_VENDOR   0x8086
#define PCI_HOST_DEVICE   0x29C0
#define PCI_HOST_CLASS    0x060000

struct pci_host_config {
    struct pci_bus *bus;          /* must outlive the host */
    const struct bus_ops *cf9_ops; /* byte accesses at 0xCF9; may be NULL */
    void *cf9_opaque;
};

struct pci_host;

/* Create the host and register the host bridge at 00:00.0 of @cfg->bus.
 * 0, -EBUSY (slot 0 taken), -ENOMEM. */
int pci_host_create(const struct pci_host_config *cfg, struct pci_host **out);
/* Unregister the host bridge and free. Unregister the ops below first. */
void pci_host_destroy(struct pci_host *host);

/* opaque = struct pci_host *. PIO: PCI_HOST_PIO_LEN bytes at
 * PCI_HOST_PIO_BASE. ECAM: the ECAM window (any size, 1 MiB per bus). */
extern const struct bus_ops pci_host_pio_ops;
extern const struct bus_ops pci_host_ecam_ops;

/* CONFIG_ADDRESS and the host bridge's config; opaque = struct pci_host *.
 * Other functions are saved through pci_dev_state_ops by their owners. */
extern const struct state_ops pci_host_state_ops;

#endif
