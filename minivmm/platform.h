/* SPDX-License-Identifier: BSD-3-Clause */
/* The PC platform around the vCPUs: COM1, RTC/CMOS, i8042 and reset ports,
 * the test-exit port, ACPI sleep registers, the PCI host bridge, and the
 * firmware tables (ACPI, MP). Layout: docs/platform.md. */
#ifndef MINIVMM_PLATFORM_H
#define MINIVMM_PLATFORM_H

#include <stddef.h>

#include "vmm/hv.h"
#include "vmm/irq.h"
#include "vmm/runstate.h"

struct boot_entry;
struct boot_image;
struct bus;
struct devreg;
struct evloop;
struct guest_memory;
struct pci_bus;
struct platform;
struct viommu;
struct vm_config;

struct platform_env {
    const struct vm_config *cfg;
    struct guest_memory *mem;
    struct bus *pio;
    struct bus *mmio;
    struct irq_chip irq;
    struct evloop *loop;
    struct vm_stop_ctl stop;
    struct hv hv;               /* ioeventfds, irqfds, MSI routes, memslots */
    struct devreg *devs;        /* join to be in snapshots (vmm/devreg.h) */
    struct viommu *viommu;      /* --viommu, or NULL (minivmm/viommu.h):
                                 * PCI devices attach to it */
};

/* Create and register every platform device. 0 or -errno, reason in @err.
 * @env must outlive the platform. */
int platform_create(const struct platform_env *env, struct platform **out,
                    char *err, size_t errlen);

/* Write firmware tables and the guest kernel into RAM; fill @entry with
 * how vCPU 0 starts. 0 or -errno (-EINVAL: RAM too small etc.). */
int platform_load(struct platform *p, const struct boot_image *img,
                  struct boot_entry *entry, char *err, size_t errlen);

/* Rewrite the ACPI tables of platform_load() with a VIOT (--viommu,
 * once every PCI device is attached). 0 or -errno with @err. */
struct x86_viot;
int platform_write_viot(struct platform *p, const struct x86_viot *viot,
                        char *err, size_t errlen);

/* The PCI bus (bus 0) for devices added after the platform. */
struct pci_bus *platform_pci_bus(struct platform *p);

/* Flush console output (called once the vCPUs are stopped). */
void platform_flush(struct platform *p);

void platform_destroy(struct platform *p);

#endif
