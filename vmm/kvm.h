/* SPDX-License-Identifier: BSD-3-Clause */
/* The only place that issues KVM ioctls (KVM API: Documentation/virt/kvm/
 * api.rst). Every function returns 0 (or a non-negative result) or -errno.
 */
#ifndef MINIVMM_KVM_H
#define MINIVMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct kvm {
    int sys_fd;          /* /dev/kvm */
    int vm_fd;
    int vcpu_mmap_size;  /* size of each vCPU's struct kvm_run mapping */
    int max_vcpus;       /* KVM_CAP_MAX_VCPUS */
    bool pvm;            /* host KVM is kvm_pvm (software CPL0 emulation) */
};

/* Open /dev/kvm, check the API version and the capabilities minivmm needs,
 * create the VM. -ENOENT/-EACCES from open are passed on so the caller can
 * tell the user why. */
int kvm_open(struct kvm *kvm);
void kvm_close(struct kvm *kvm);

/* KVM_CHECK_EXTENSION on the VM (falls back to /dev/kvm): >= 0 value. */
int kvm_check_cap(const struct kvm *kvm, long cap);

/* KVM_SET_USER_MEMORY_REGION: map @size bytes at @hva as @gpa in @slot.
 * @size 0 deletes the slot. @flags: KVM_MEM_LOG_DIRTY_PAGES, ...READONLY. */
int kvm_set_memslot(const struct kvm *kvm, uint32_t slot, uint64_t gpa,
                    uint64_t size, void *hva, uint32_t flags);

/* In-kernel IOAPIC/PIC/LAPIC and PIT (KVM_CREATE_IRQCHIP, _PIT2), plus the
 * x86 TSS and identity-map pages KVM needs below 4 GiB (on VMX). */
int kvm_create_platform(const struct kvm *kvm, uint64_t tss_gpa);

/* KVM_IRQ_LINE: drive in-kernel irqchip input @gsi to @level. */
int kvm_irq_line(const struct kvm *kvm, uint32_t gsi, bool level);

/* KVM_SET_GSI_ROUTING with @nr entries (replaces the whole table). */
int kvm_set_gsi_routing(const struct kvm *kvm,
                        const struct kvm_irq_routing_entry *entries,
                        uint32_t nr);

/* KVM_IRQFD: @fd (eventfd) injects @gsi; @resample_fd >= 0 makes it a
 * level-triggered irqfd with resampling. @deassign removes it. */
int kvm_irqfd(const struct kvm *kvm, int fd, uint32_t gsi, int resample_fd,
              bool deassign);

/* KVM_IOEVENTFD: a guest write of @len bytes (0 = any length) at @addr
 * (port if @pio) signals @fd; with @datamatch only when the value equals
 * @data. @deassign removes it. */
int kvm_ioeventfd(const struct kvm *kvm, int fd, uint64_t addr, uint32_t len,
                  bool pio, bool datamatch, uint64_t data, bool deassign);

/* KVM_GET_SUPPORTED_CPUID: *@out is malloc'd, caller frees. */
int kvm_get_supported_cpuid(const struct kvm *kvm, struct kvm_cpuid2 **out);

/* KVM_GET_MSR_INDEX_LIST (MSRs KVM saves/restores): *@out is malloc'd,
 * caller frees. */
int kvm_get_msr_index_list(const struct kvm *kvm, struct kvm_msr_list **out);

/* KVM_CREATE_VCPU and mmap of its kvm_run. */
int kvm_create_vcpu(const struct kvm *kvm, int id, int *fd,
                    struct kvm_run **run);
void kvm_destroy_vcpu(const struct kvm *kvm, int fd, struct kvm_run *run);

/* Dirty logging (migration, vmm/dirty.c). Slots must have been set with
 * KVM_MEM_LOG_DIRTY_PAGES. kvm_enable_manual_dirty_log: KVM_ENABLE_CAP
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (GET no longer write-protects; CLEAR
 * does), -EINVAL/-ENOTTY when the host lacks it. kvm_get_dirty_log:
 * KVM_GET_DIRTY_LOG of @slot into @bitmap (one bit per 4 KiB page of the
 * slot, rounded up to 64 bits). kvm_clear_dirty_log: KVM_CLEAR_DIRTY_LOG
 * of the set bits of @bitmap for pages [@first, @first + @num) of @slot
 * (@first multiple of 64). */
int kvm_enable_manual_dirty_log(const struct kvm *kvm);
int kvm_get_dirty_log(const struct kvm *kvm, uint32_t slot, void *bitmap);
int kvm_clear_dirty_log(const struct kvm *kvm, uint32_t slot, uint64_t first,
                        uint32_t num, void *bitmap);

/* Any vCPU ioctl (KVM_RUN, KVM_GET_REGS, ...): result or -errno. */
int kvm_vcpu_ioctl(int vcpu_fd, unsigned long req, void *arg);

/* Any VM ioctl not wrapped above: result or -errno. */
int kvm_vm_ioctl(const struct kvm *kvm, unsigned long req, void *arg);

#endif
