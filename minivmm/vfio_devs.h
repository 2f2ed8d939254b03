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
 * "writes","bytes"}} (docs/api.md, "stats"). NULL @ds adds nothing. */
void vfio_devs_stats(struct vfio_devs *ds, struct json_object *arr);

#endif
