/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's vfio-user devices (--vfio-user): each a vfio/pci_dev.h device
 * on bus 0, in command-line order, after the virtio devices. Servers are
 * connected and checked before the guest starts; a server that is absent
 * or does not fit the VM fails creation with a message naming the device
 * (main.c then exits). Each device's poll fd is watched by the event
 * loop; no device runs a thread of its own. The option itself is parsed
 * by config_devices.c. */
#ifndef MINIVMM_VFIO_DEVS_H
#define MINIVMM_VFIO_DEVS_H

#include <stddef.h>

#include "minivmm/config_types.h"

struct platform_env;
struct pci_bus;
struct vfio_devs;
struct vfio_pci;

/* Connect and register every device of @env->cfg on @pci. 0 or -errno,
 * reason in @err. On failure *@out holds what was built: release it with
 * vfio_devs_destroy(). */
int vfio_devs_create(const struct platform_env *env, struct pci_bus *pci,
                     struct vfio_devs **out, char *err, size_t errlen);

/* Hotplug (minivmm/hotplug.c), event-loop thread. add: a device of @c
 * (checked as at start, and its BARs must fit: else nothing changed),
 * its slot in *@slot; 0 or -errno with the reason in @err. find: the slot
 * of device @id, or -ENOENT. remove: vfio_pci_release(), then unregister,
 * close and free (vCPUs stopped); 0 or -ENOENT. slot_of: entry @i's slot
 * (0: no device there). */
int vfio_devs_add(struct vfio_devs *ds, const struct config_vfio *c,
                  unsigned int *slot, char *err, size_t errlen);
int vfio_devs_find(const struct vfio_devs *ds, const char *id,
                   unsigned int *slot);
int vfio_devs_remove(struct vfio_devs *ds, const char *id);
unsigned int vfio_devs_slot_of(const struct vfio_devs *ds, unsigned int i);

/* Hotplug (minivmm/hotplug_ctl.c), event-loop thread. add: a device of
 * @c (checked as at start, and its BARs must fit: else nothing changed;
 * with --viommu its host IOMMU device is checked but it is not made an
 * endpoint), its slot in *@slot; 0 or -errno with the reason in @err.
 * find: the slot of device @id, or -ENOENT. remove: vfio_pci_release(),
 * then unregister, close and free (vCPUs stopped); 0 or -ENOENT.
 * attached: whether @id is a vIOMMU endpoint (cannot be removed).
 * slot_of: entry @i's slot (0: no device there). */
int vfio_devs_add(struct vfio_devs *ds, const struct config_vfio *c,
                  unsigned int *slot, char *err, size_t errlen);
int vfio_devs_find(const struct vfio_devs *ds, const char *id,
                   unsigned int *slot);
int vfio_devs_remove(struct vfio_devs *ds, const char *id);
bool vfio_devs_attached(const struct vfio_devs *ds, const char *id);
unsigned int vfio_devs_slot_of(const struct vfio_devs *ds, unsigned int i);

/* The devices, in command-line order (live migration drives their DMA
 * dirty logging through vfio/pci_dev.h vfio_pci_dirty_*). */
unsigned int vfio_devs_count(const struct vfio_devs *ds);
struct vfio_pci *vfio_devs_get(struct vfio_devs *ds, unsigned int i);

/* Unregister and free (vCPUs stopped; before the PCI bus and the event
 * loop go away). NULL is a no-op. */
void vfio_devs_destroy(struct vfio_devs *d);

struct json_object;
/* Append one object per device to JSON array @arr: {"id","kind":
 * "vfio-user","vfio_user":{"round_trips","posted","latency":{"sum_us",
 * "histogram":[{"lt_us","count"}...]}},"dma":{"messages","reads",
 * "writes","bytes"}} (docs/api.md, "stats"); vfio_user also has
 * "messages":{"sent","received"} and "wakeups". NULL @ds adds nothing.
 * Returns the devices' wakeups summed. */
uint64_t vfio_devs_stats(struct vfio_devs *ds, struct json_object *arr);

#endif
