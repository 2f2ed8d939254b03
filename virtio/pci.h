/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-pci modern transport (virtio 1.x section 4.1 "Virtio Over PCI
 * Bus") for in-VMM device models.
 *
 * One PCI function per device (vendor 0x1AF4, device 0x1040 + type,
 * revision 1), with two memory BARs:
 *   BAR 0 (32-bit): MSI-X table at 0, PBA after it (num_queues + 1
 *                   vectors);
 *   BAR 2 (64-bit, 16 KiB): common config at 0x0000, ISR at 0x1000,
 *                   device config at 0x2000, notify at 0x3000 with
 *                   notify_off_multiplier 4 (queue N's doorbell at
 *                   0x3000 + 4 * N); registers in virtio/pci_model.h.
 * Vendor capabilities describe them (common, notify, ISR, device, and a
 * VIRTIO_PCI_CAP_PCI_CFG access window), plus the MSI-X capability.
 *
 * Fast paths, through the hypervisor services (vmm/hv.h):
 * - each queue has a doorbell eventfd; while BAR 2 is mapped it is a KVM
 *   ioeventfd on the queue's 2-byte doorbell, so a notify costs no exit
 *   to userspace. The owner watches virtio_pci_doorbell_fd() and calls
 *   virtio_pci_doorbell_ready(). A trapped doorbell write (other width,
 *   or no ioeventfd) signals the same eventfd.
 * - each MSI-X vector has an eventfd bound (KVM irqfd) to an MSI route
 *   that follows the guest-programmed table entry; raising an unmasked
 *   vector is one eventfd write. A masked vector is not signalled: its
 *   PBA bit is set and it fires on unmask (devices/msix.h).
 * With MSI-X disabled, interrupts set the ISR bits and assert INTA
 * (level) until the driver reads ISR.
 *
 * Locking: one mutex per transport serialises every call into the device
 * model (struct virtio_dev is not thread-safe): trapped BAR accesses
 * (vCPU threads), doorbells and the backend handlers (event loop), which
 * virtio/pci_host.c runs under virtio_pci_lock()/virtio_pci_unlock().
 * Device models raise interrupts with the lock held. Lock order: PCI bus
 * lock → transport lock → MSI-X lock.
 */
#ifndef MINIVMM_VIRTIO_PCI_H
#define MINIVMM_VIRTIO_PCI_H

#include <stdint.h>

#include "vmm/hv.h"
#include "devices/pci.h"
#include "virtio/device.h"
#include "virtio/pci_model.h"
#include "vmm/state.h"

#define VIRTIO_PCI_VENDOR_ID     0x1AF4
#define VIRTIO_PCI_DEVICE_ID_BASE 0x1040  /* + VIRTIO_ID_* (4.1.2.1) */

struct virtio_pci;

struct virtio_pci_params {
    uint32_t device_type;   /* VIRTIO_ID_*, < 0x40 */
    uint32_t class_code;    /* PCI class, e.g. 0x018000 */
    uint16_t num_queues;    /* 1..VIRTIO_DEV_MAX_QUEUES */
    uint32_t config_size;   /* device config bytes, 0..4096 */
    struct hv hv;           /* ops NULL: trapped doorbells, and MSI-X
                               vectors only set their eventfds */
};

/* Create the transport: PCI function, BARs, capabilities, eventfds.
 * 0 or -errno (-EINVAL bad params, -ENOMEM, eventfd errors). */
int virtio_pci_create(const struct virtio_pci_params *p,
                      struct virtio_pci **out);
/* Unregisters nothing on the PCI bus: call pci_unregister() first. Tears
 * down irqfds, MSI routes, ioeventfds and eventfds. */
void virtio_pci_destroy(struct virtio_pci *vp);

/* The interrupt sink to give the device model at its creation. */
struct virtio_irq virtio_pci_irq(struct virtio_pci *vp);
/* Attach the device core (its num_queues must equal the transport's) and
 * the model's state ops (saved in the subnode "virtio"; may be NULL).
 * Once, before pci_register(). 0 or -EINVAL. */
int virtio_pci_attach(struct virtio_pci *vp, struct virtio_dev *vdev,
                      const struct state_ops *dev_state, void *dev_opaque);
/* The PCI function, for pci_register(). */
struct pci_dev *virtio_pci_pci_dev(struct virtio_pci *vp);

/* Counters: doorbells that reached the device through a KVM ioeventfd
 * (no exit to userspace) and through a trapped BAR write, interrupts
 * raised (MSI-X messages or INTx assertions). Monotonic, relaxed reads. */
struct virtio_pci_stats {
    uint64_t doorbells_ioeventfd;
    uint64_t doorbells_trapped;
    uint64_t interrupts;
};
void virtio_pci_get_stats(const struct virtio_pci *vp,
                          struct virtio_pci_stats *st);

/* Queue @qidx's doorbell eventfd (nonblocking), or -1 for a bad index. */
int virtio_pci_doorbell_fd(const struct virtio_pci *vp, uint16_t qidx);
/* The doorbell fd is readable: consume it and notify the device model
 * (under the lock). */
void virtio_pci_doorbell_ready(struct virtio_pci *vp, uint16_t qidx);

/* Serialise backend work on the device model with the transport. */
void virtio_pci_lock(struct virtio_pci *vp);
void virtio_pci_unlock(struct virtio_pci *vp);

/* Whole-function state: PCI config (pci_dev_save), MSI-X table and PBA,
 * transport registers, then the model's state in subnode "virtio".
 * Opaque: struct virtio_pci. Load validates and rewires routes. */
extern const struct state_ops virtio_pci_state_ops;

#endif
