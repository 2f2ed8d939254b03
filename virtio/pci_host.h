/* SPDX-License-Identifier: BSD-3-Clause */
/* A virtio-pci function run by the VMM's event loop: the one place that
 * takes the transport lock (virtio/pci.h) around the device model's work
 * and that holds the device still between the device registry's quiesce
 * and resume. The owner (minivmm/virtio_devs.c) only creates the
 * transport and the model, hands them here and registers the entry that
 * virtio_pci_devreg_ops() fills.
 *
 * - Doorbells: each queue's eventfd is watched; a kick runs the model's
 *   queue_notify under the lock (virtio_pci_doorbell_ready()). While the
 *   device is paused a kick is consumed and remembered, and run at resume.
 * - Backend fds (an io_uring eventfd, a tap, stdin): @fn(@model) runs
 *   under the lock. An event while paused is held: the fd leaves the loop
 *   (a level-triggered fd would fire again and again) and @fn runs once at
 *   resume, after the model's resume hook (docs/migration.md, "Guest-RAM
 *   writers").
 * - Registry: quiesce stops all of the above then runs the model's
 *   quiesce hook under the lock (blk: drain in-flight I/O); resume runs the
 *   model's resume hook under the lock, then the held events; save/load
 *   are the whole function's (virtio_pci_state_ops).
 *
 * Event-loop thread only (like the registry's ops). 0 or -errno. */
#ifndef MINIVMM_VIRTIO_PCI_HOST_H
#define MINIVMM_VIRTIO_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/pci.h"
#include "vmm/devreg.h"
#include "vmm/evloop.h"

#define VIRTIO_HOST_MAX_WATCH 2

struct virtio_host;

/* Model hooks run under the transport lock; each may be NULL. */
struct virtio_host_model {
    int (*quiesce)(void *model);    /* drain: nothing in flight after */
    int (*resume)(void *model);     /* restart after load / un-pause */
};

/* Host @vp (attached, not yet on the PCI bus or after) on @loop; the
 * model's hooks @ops (may be NULL) get @model. Watches the doorbells.
 * -ENOMEM or evloop errors (then nothing is left to free). */
int virtio_host_create(struct evloop *loop, struct virtio_pci *vp,
                       const struct virtio_host_model *ops, void *model,
                       struct virtio_host **out);
/* Unwatch everything. @vp and the model stay the caller's. NULL: no-op. */
void virtio_host_destroy(struct virtio_host *h);

/* Watch @fd (evloop @events, EPOLLET for edge-triggered) for the model:
 * @fn(@model) under the lock; held while paused (see above). At most
 * VIRTIO_HOST_MAX_WATCH fds: -ENOSPC. Watching a watched fd again is a
 * no-op. May be called from @fn or a model callback (lock held). */
int virtio_host_watch(struct virtio_host *h, int fd, uint32_t events,
                      void (*fn)(void *model));
/* Stop watching @fd (and forget a held event). -ENOENT if not watched. */
int virtio_host_unwatch(struct virtio_host *h, int fd);

/* The device registry's ops for this function: @e gets state (the whole
 * function), opaque (@h), quiesce and resume; the caller sets the id. */
void virtio_pci_devreg_ops(struct virtio_host *h, struct devreg_entry *e);

#endif
