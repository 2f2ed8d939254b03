/* SPDX-License-Identifier: BSD-3-Clause */
/* The VM's in-process virtio devices (--disk, --net, --console, --rng):
 * each a virtio-pci function (virtio/pci.h) on bus 0, in this order:
 * disks, nets, console, rng, taking slots from 1 up after the platform's.
 *
 * Host resources are opened here, before the guest starts: a disk file
 * that cannot be opened (or is locked by another user), or a tap that
 * cannot be attached, fails creation with -EINVAL and a message naming
 * the option (main.c then exits 2).
 *
 * Every fd a device needs (doorbell eventfds, the blk io_uring eventfd,
 * tap fds, stdin for the console) is watched by the VM's event loop; no
 * device runs a thread of its own.
 */
#ifndef MINIVMM_VIRTIO_DEVS_H
#define MINIVMM_VIRTIO_DEVS_H

#include <stdbool.h>
#include <stddef.h>

struct platform_env;
struct pci_bus;
struct virtio_devs;

/* Create and register the devices of @env->cfg on @pci. 0 or -errno
 * (-EINVAL for bad host input), reason in @err. On failure *@out still
 * holds what was built: release it with virtio_devs_destroy(). */
int virtio_devs_create(const struct platform_env *env, struct pci_bus *pci,
                       struct virtio_devs **out, char *err, size_t errlen);

/* Unregister and free every device (vCPUs stopped; before the PCI bus and
 * the event loop go away). NULL is a no-op. */
void virtio_devs_destroy(struct virtio_devs *d);

struct config_disk;

/* Hotplug of disks (minivmm/hotplug_ctl.c), event-loop thread. add: open and
 * create a disk of @cd (its BARs must fit, else nothing changed), its PCI
 * slot in *@slot; 0 or -errno with the reason in @err. find: the slot of
 * disk @id or -ENOENT. remove: unregister and free it (vCPUs stopped);
 * 0 or -ENOENT. */
int virtio_devs_add_disk(struct virtio_devs *ds, const struct config_disk *cd,
                         unsigned int *slot, char *err, size_t errlen);
int virtio_devs_find_disk(const struct virtio_devs *ds, const char *id,
                          unsigned int *slot);
int virtio_devs_remove_disk(struct virtio_devs *ds, const char *id);
/* Whether disk @id is an endpoint of the vIOMMU (cannot be removed). */
bool virtio_devs_attached(const struct virtio_devs *ds, const char *id);

struct json_object;
/* Append one object per device to JSON array @arr: {"id","kind",
 * "doorbells":{"ioeventfd","trapped"},"interrupts"} and for disks "block":
 * {"requests","bytes_read","bytes_written","errors"} (docs/api.md,
 * "stats"). Event-loop thread. NULL @ds adds nothing. */
void virtio_devs_stats(const struct virtio_devs *ds, struct json_object *arr);

#endif
