/* SPDX-License-Identifier: BSD-3-Clause */
/* The KVM VM and its guest-RAM memslots, made inline (a boot) or on a
 * thread of their own while the main thread opens the snapshot and starts
 * its loader (a restore): KVM_CREATE_VM overlaps the snapshot's checks,
 * the memslot ioctls (whose cost grows with RAM where KVM allocates
 * shadow-MMU rmaps per 4 KiB page, e.g. kvm_pvm) overlap the on-demand
 * loader's start and the event loop. The VM build (vm.c) joins the thread
 * before the irqchip, which must come after the memslots (vm.c,
 * create_base). KVM API: Documentation/virt/kvm/api.rst (KVM_CREATE_VM,
 * KVM_SET_USER_MEMORY_REGION: any thread may issue VM ioctls). */
#ifndef MINIVMM_KVM_EARLY_H
#define MINIVMM_KVM_EARLY_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/kvm.h"
#include "vmm/memory.h"

struct kvm_early;

/* Open /dev/kvm and create the VM (kvm_open). 0, or -errno with the
 * reason in @err ("cannot use /dev/kvm: ..."); @kvm closed then. */
int vm_kvm_open(struct kvm *kvm, char *err, size_t errlen);

/* Register @mem's regions as memslots 0..nregions-1
 * (KVM_SET_USER_MEMORY_REGION, no flags). 0, or -errno with the reason in
 * @err ("KVM_SET_USER_MEMORY_REGION <slot>: ..."). */
int vm_kvm_memslots(const struct kvm *kvm, const struct guest_memory *mem,
                    char *err, size_t errlen);

/* Start the thread: it runs vm_kvm_open(), then waits for
 * kvm_early_map() or kvm_early_cancel(). 0 with *@out, or -errno (no
 * thread: the caller makes the VM inline). */
int kvm_early_start(struct kvm_early **out);

/* Guest RAM is mapped: the thread registers @mem's regions (copied here;
 * the mapping must stay until the join) with vm_kvm_memslots(). */
void kvm_early_map(struct kvm_early *e, const struct guest_memory *mem);

/* Wait for the thread and free @e: 0 with the VM in *@kvm and *@mapped
 * telling whether the memslots are in (kvm_early_map() was called); or
 * the thread's -errno with its reason in @err and *@kvm closed. Logs (at
 * debug level) what the thread spent and how long the join waited. */
int kvm_early_join(struct kvm_early *e, struct kvm *kvm, bool *mapped,
                   char *err, size_t errlen);

/* Abandon the VM (the restore failed before it was built): tell the
 * thread, join it, close the VM, free @e. NULL: nothing. */
void kvm_early_cancel(struct kvm_early *e);

#endif
