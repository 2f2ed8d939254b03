/* SPDX-License-Identifier: BSD-3-Clause */
/* Hypervisor services for devices that wire fast paths into KVM (virtio-pci,
 * vfio-user): MSI routes, irqfds, ioeventfds, memslots for device memory.
 * devices/ and virtio/ and vfio/ see only this table; vmm/hv.c implements
 * it over vmm/kvm.c and arch/x86/irqchip.c, tests use fakes.
 * Every op returns 0 or -errno; all are thread-safe. */
#ifndef MINIVMM_HV_H
#define MINIVMM_HV_H

#include <stdbool.h>
#include <stdint.h>

struct hv_ops {
    /* New MSI route for the message (@addr, @data); *@gsi gets its GSI. */
    int (*msi_add)(void *opaque, uint64_t addr, uint32_t data,
                   uint32_t *gsi);
    int (*msi_update)(void *opaque, uint32_t gsi, uint64_t addr,
                      uint32_t data);
    int (*msi_del)(void *opaque, uint32_t gsi);
    /* Signalling eventfd @fd injects @gsi (KVM_IRQFD). @resample_fd >= 0:
     * level-triggered, @resample_fd is signalled on EOI. */
    int (*irqfd)(void *opaque, int fd, uint32_t gsi, int resample_fd,
                 bool assign);
    /* A guest write of @len bytes (0: any) at @addr (a port if @pio), equal
     * to @data if @datamatch, signals @fd instead of exiting to us. */
    int (*ioeventfd)(void *opaque, int fd, uint64_t addr, uint32_t len,
                     bool pio, bool datamatch, uint64_t data, bool assign);
    /* Map @size bytes of host memory @hva at guest-physical @gpa (device
     * memory such as an mmap-able BAR); *@slot identifies it. */
    int (*memslot_add)(void *opaque, uint64_t gpa, uint64_t size, void *hva,
                       bool readonly, uint32_t *slot);
    int (*memslot_del)(void *opaque, uint32_t slot);
    /* Deliver the MSI (@addr, @data) once, now (KVM_SIGNAL_MSI): for a
     * device model that raises a rarely used, guest-programmed message
     * (the VT-d unit's fault and invalidation events). 0 when delivered
     * or blocked by the guest (KVM returns 0), -errno. May be NULL. */
    int (*msi_signal)(void *opaque, uint64_t addr, uint32_t data);
};

struct hv {
    const struct hv_ops *ops;
    void *opaque;
};

#endif
