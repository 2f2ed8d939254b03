/* SPDX-License-Identifier: BSD-3-Clause */
/* Devices added and removed while the VM runs (docs/api.md "Hotplug"):
 * the API's device-add / device-remove / powerdown (vmctl_hotplug_ops),
 * the guest told through the PCI hotplug registers and the ACPI Generic
 * Event Device (devices/hotplug.h, arch/x86/acpi_hotplug.h).
 *
 * - add: the "k=v,..." text goes through the command line's own parser
 *   (--disk: config_add_disk, --vfio-user: config_add_vfio) into the
 *   running VM's configuration; the device is then created exactly as
 *   at start (a vfio-user server's capabilities and DMA limits checked,
 *   every BAR placed) but refused, with nothing changed, if a BAR finds no
 *   room (with --viommu virtio a vfio-user server's host IOMMU device is
 *   checked as at start, but the device is not made an endpoint: the
 *   VIOT, written at start, does not name it; with --viommu intel every
 *   device-add is refused, -EOPNOTSUPP: the DMAR's INCLUDE_PCI_ALL would
 *   put the device behind the unit); then the guest is notified (PCIU +
 *   GED interrupt) and the event
 *   {"event":"device-added","id","type","slot"} sent.
 * - remove: PCID + GED interrupt ask the guest to release the device; when
 *   it ejects the slot (_EJ0 writes B0EJ) the vCPUs are stopped, the
 *   device torn down (vfio-user: interrupts disabled, DMA unmapped, socket
 *   closed; disk: file closed), the slot freed for reuse, the vCPUs
 *   resumed: {"event":"device-removed","id","slot"}. Not released within
 *   the timeout (default HPCTL_EJECT_TIMEOUT_MS): the device stays,
 *   {"event":"device-remove-failed","id","slot","error"}. An endpoint of
 *   the vIOMMU (a device present at start without iommu=off) is refused
 *   (-EBUSY): endpoints cannot be detached. A slot the guest
 *   ejects on its own is removed the same way.
 * - powerdown: the GED's power-button event (the guest's ACPI button
 *   driver then shuts down).
 *
 * The running VM's configuration (the API's "config") follows: devices
 * added are appended, removed ones deleted, every disk and vfio-user
 * device records its slot (slot=N) so a VM started from that description
 * (a migration destination, a restore) has the same devices at the same
 * slots (docs/migration.md). Event-loop thread only. */
#ifndef MINIVMM_HOTPLUG_CTL_H
#define MINIVMM_HOTPLUG_CTL_H

#include <stddef.h>

#include "minivmm/vmctl.h"
#include "vmm/irq.h"

#define HPCTL_EJECT_TIMEOUT_MS 10000

struct bus;
struct evloop;
struct vfio_devs;
struct virtio_devs;
struct vm_config;

struct hpctl_env {
    struct vm_config *cfg;      /* the running VM's; updated */
    struct bus *pio;            /* the registers go here */
    struct irq_chip irq;        /* the GED's GSI */
    struct evloop *loop;
    struct virtio_devs *virtio;
    struct vfio_devs *vfio;
};

struct hpctl;

/* Register the hotplug registers, mark the slots of the devices built so
 * far present and record them in env->cfg. 0 or -errno with the reason. */
int hpctl_create(const struct hpctl_env *env, struct hpctl **out,
                 char *err, size_t errlen);
/* Run state and events from @ctl (set once it exists). */
void hpctl_set_ctl(struct hpctl *h, struct vmctl *ctl);
void hpctl_destroy(struct hpctl *h);

/* The ops for vmctl_env.hotplug (opaque: struct hpctl *). */
extern const struct vmctl_hotplug_ops hpctl_ops;

#endif
