/* SPDX-License-Identifier: BSD-3-Clause */
/* Hypervisor services over KVM (see vmm/hv.h, devices/hv.h). */
#include "minivmm/hv_kvm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "arch/x86/irqchip.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

#define HV_MAX_SLOTS 256 /* device memslots; KVM allows 509+ in all */

struct vmm_hv {
    struct kvm *kvm;
    struct irqchip *ic;
    uint32_t first_slot;
    pthread_mutex_t lock;
    uint8_t used[HV_MAX_SLOTS];
};

int vmm_hv_create(struct kvm *kvm, struct irqchip *ic, struct vmm_hv **out)
{
    struct vmm_hv *h = calloc(1, sizeof(*h));

    if (!h)
        return -ENOMEM;
    h->kvm = kvm;
    h->ic = ic;
    h->first_slot = GUEST_MEM_MAX_REGIONS; /* RAM never uses more slots */
    pthread_mutex_init(&h->lock, NULL);
    *out = h;
    return 0;
}

void vmm_hv_destroy(struct vmm_hv *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static int msi_add(void *o, uint64_t addr, uint32_t data, uint32_t *gsi)
{
    return irqchip_msi_add(((struct vmm_hv *)o)->ic, addr, data, gsi);
}

static int msi_update(void *o, uint32_t gsi, uint64_t addr, uint32_t data)
{
    return irqchip_msi_update(((struct vmm_hv *)o)->ic, gsi, addr, data);
}

static int msi_del(void *o, uint32_t gsi)
{
    return irqchip_msi_del(((struct vmm_hv *)o)->ic, gsi);
}

static int irqfd(void *o, int fd, uint32_t gsi, int resample_fd, bool assign)
{
    return kvm_irqfd(((struct vmm_hv *)o)->kvm, fd, gsi, resample_fd,
                     !assign);
}

static int ioeventfd(void *o, int fd, uint64_t addr, uint32_t len, bool pio,
                     bool datamatch, uint64_t data, bool assign)
{
    return kvm_ioeventfd(((struct vmm_hv *)o)->kvm, fd, addr, len, pio,
                         datamatch, data, !assign);
}

static int memslot_add(void *o, uint64_t gpa, uint64_t size, void *hva,
                       bool readonly, uint32_t *slot)
{
    struct vmm_hv *h = o;
    int r = -ENOSPC;

    pthread_mutex_lock(&h->lock);
    for (uint32_t i = 0; i < HV_MAX_SLOTS; i++) {
        if (h->used[i])
            continue;
        r = kvm_set_memslot(h->kvm, h->first_slot + i, gpa, size, hva,
                            readonly ? KVM_MEM_READONLY : 0);
        if (r == 0) {
            h->used[i] = 1;
            *slot = h->first_slot + i;
        }
        break;
    }
    pthread_mutex_unlock(&h->lock);
    return r;
}

static int memslot_del(void *o, uint32_t slot)
{
    struct vmm_hv *h = o;
    uint32_t i = slot - h->first_slot;
    int r = -ENOENT;

    pthread_mutex_lock(&h->lock);
    if (slot >= h->first_slot && i < HV_MAX_SLOTS && h->used[i]) {
        r = kvm_set_memslot(h->kvm, slot, 0, 0, NULL, 0);
        if (r == 0)
            h->used[i] = 0;
    }
    pthread_mutex_unlock(&h->lock);
    return r;
}

static int msi_signal(void *o, uint64_t addr, uint32_t data)
{
    struct kvm_msi m = { .address_lo = (uint32_t)addr,
                         .address_hi = (uint32_t)(addr >> 32),
                         .data = data };
    int r = kvm_vm_ioctl(((struct vmm_hv *)o)->kvm, KVM_SIGNAL_MSI, &m);

    return r < 0 ? r : 0;
}

static const struct hv_ops vmm_hv_ops = {
    msi_add, msi_update, msi_del, irqfd, ioeventfd, memslot_add, memslot_del,
    msi_signal,
};

struct hv vmm_hv_services(struct vmm_hv *h)
{
    return (struct hv){ .ops = &vmm_hv_ops, .opaque = h };
}
