/* SPDX-License-Identifier: BSD-3-Clause */
/* KVM ioctl wrappers (see kvm.h). */
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;

    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR && req != KVM_RUN);
    return r < 0 ? -errno : r;
}

int kvm_open(struct kvm *kvm)
{
    int r;

    memset(kvm, 0, sizeof(*kvm));
    kvm->vm_fd = -1;
    kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm->sys_fd < 0)
        return -errno;
    r = xioctl(kvm->sys_fd, KVM_GET_API_VERSION, NULL);
    if (r != KVM_API_VERSION) {
        r = r < 0 ? r : -ENOTSUP;
        goto fail;
    }
    kvm->vcpu_mmap_size = xioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
    if (kvm->vcpu_mmap_size < 0) {
        r = kvm->vcpu_mmap_size;
        goto fail;
    }
    kvm->vm_fd = xioctl(kvm->sys_fd, KVM_CREATE_VM, (void *)0);
    if (kvm->vm_fd < 0) {
        r = kvm->vm_fd;
        goto fail;
    }
    kvm->max_vcpus = kvm_check_cap(kvm, KVM_CAP_MAX_VCPUS);
    if (kvm->max_vcpus <= 0)
        kvm->max_vcpus = kvm_check_cap(kvm, KVM_CAP_NR_VCPUS);
    if (kvm->max_vcpus <= 0)
        kvm->max_vcpus = 4;
    kvm->pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
    if (kvm_check_cap(kvm, KVM_CAP_IRQCHIP) <= 0 ||
        kvm_check_cap(kvm, KVM_CAP_USER_MEMORY) <= 0 ||
        kvm_check_cap(kvm, KVM_CAP_IRQFD) <= 0 ||
        kvm_check_cap(kvm, KVM_CAP_IOEVENTFD) <= 0) {
        r = -ENOTSUP;
        goto fail;
    }
    return 0;
fail:
    kvm_close(kvm);
    return r;
}

void kvm_close(struct kvm *kvm)
{
    if (kvm->vm_fd >= 0)
        close(kvm->vm_fd);
    if (kvm->sys_fd >= 0)
        close(kvm->sys_fd);
    kvm->vm_fd = kvm->sys_fd = -1;
}

int kvm_check_cap(const struct kvm *kvm, long cap)
{
    int fd = kvm->vm_fd >= 0 ? kvm->vm_fd : kvm->sys_fd;
    int r = xioctl(fd, KVM_CHECK_EXTENSION, (void *)cap);

    if (r < 0 && fd != kvm->sys_fd)
        r = xioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, (void *)cap);
    return r;
}

int kvm_set_memslot(const struct kvm *kvm, uint32_t slot, uint64_t gpa,
                    uint64_t size, void *hva, uint32_t flags)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .flags = flags,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)hva,
    };

    return xioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

int kvm_create_platform(const struct kvm *kvm, uint64_t tss_gpa)
{
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    uint64_t idmap = tss_gpa + 3 * 4096;
    int r;

    /* Needed on Intel VMX before the first vCPU; harmless elsewhere. */
    r = xioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)tss_gpa);
    if (r < 0 && r != -ENOTTY && r != -EINVAL)
        return r;
    xioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
    r = xioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, NULL);
    if (r < 0)
        return r;
    return xioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit);
}

int kvm_irq_line(const struct kvm *kvm, uint32_t gsi, bool level)
{
    struct kvm_irq_level l = { .irq = gsi, .level = level };

    return xioctl(kvm->vm_fd, KVM_IRQ_LINE, &l);
}

int kvm_set_gsi_routing(const struct kvm *kvm,
                        const struct kvm_irq_routing_entry *entries,
                        uint32_t nr)
{
    struct kvm_irq_routing *t;
    int r;

    t = calloc(1, sizeof(*t) + nr * sizeof(*entries));
    if (!t)
        return -ENOMEM;
    t->nr = nr;
    memcpy(t->entries, entries, nr * sizeof(*entries));
    r = xioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, t);
    free(t);
    return r;
}

int kvm_irqfd(const struct kvm *kvm, int fd, uint32_t gsi, int resample_fd,
              bool deassign)
{
    struct kvm_irqfd i = { .fd = (uint32_t)fd, .gsi = gsi };

    if (deassign)
        i.flags |= KVM_IRQFD_FLAG_DEASSIGN;
    if (resample_fd >= 0) {
        i.flags |= KVM_IRQFD_FLAG_RESAMPLE;
        i.resamplefd = (uint32_t)resample_fd;
    }
    return xioctl(kvm->vm_fd, KVM_IRQFD, &i);
}

int kvm_ioeventfd(const struct kvm *kvm, int fd, uint64_t addr, uint32_t len,
                  bool pio, bool datamatch, uint64_t data, bool deassign)
{
    struct kvm_ioeventfd e = {
        .datamatch = data,
        .addr = addr,
        .len = len,
        .fd = fd,
    };

    if (pio)
        e.flags |= KVM_IOEVENTFD_FLAG_PIO;
    if (datamatch)
        e.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    if (deassign)
        e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    return xioctl(kvm->vm_fd, KVM_IOEVENTFD, &e);
}

int kvm_get_supported_cpuid(const struct kvm *kvm, struct kvm_cpuid2 **out)
{
    for (uint32_t n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c;
        int r;

        c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
        if (!c)
            return -ENOMEM;
        c->nent = n;
        r = xioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, c);
        if (r == 0) {
            *out = c;
            return 0;
        }
        free(c);
        if (r != -E2BIG)
            return r;
    }
    return -E2BIG;
}

int kvm_get_msr_index_list(const struct kvm *kvm, struct kvm_msr_list **out)
{
    for (uint32_t n = 64; n <= 4096; n *= 2) {
        struct kvm_msr_list *l;
        int r;

        l = calloc(1, sizeof(*l) + n * sizeof(l->indices[0]));
        if (!l)
            return -ENOMEM;
        l->nmsrs = n;
        r = xioctl(kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, l);
        if (r == 0) {
            *out = l;
            return 0;
        }
        free(l);
        if (r != -E2BIG)
            return r;
    }
    return -E2BIG;
}

int kvm_create_vcpu(const struct kvm *kvm, int id, int *fd,
                    struct kvm_run **run)
{
    int vfd = xioctl(kvm->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)id);
    void *p;

    if (vfd < 0)
        return vfd;
    p = mmap(NULL, (size_t)kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
             MAP_SHARED, vfd, 0);
    if (p == MAP_FAILED) {
        int r = -errno;

        close(vfd);
        return r;
    }
    *fd = vfd;
    *run = p;
    return 0;
}

void kvm_destroy_vcpu(const struct kvm *kvm, int fd, struct kvm_run *run)
{
    if (run)
        munmap(run, (size_t)kvm->vcpu_mmap_size);
    if (fd >= 0)
        close(fd);
}

int kvm_vcpu_ioctl(int vcpu_fd, unsigned long req, void *arg)
{
    return xioctl(vcpu_fd, req, arg);
}

int kvm_vm_ioctl(const struct kvm *kvm, unsigned long req, void *arg)
{
    return xioctl(kvm->vm_fd, req, arg);
}

int kvm_enable_manual_dirty_log(const struct kvm *kvm)
{
    struct kvm_enable_cap cap = {
        .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
        .args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE },
    };

    if (kvm_check_cap(kvm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) <= 0)
        return -EINVAL;
    return xioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap);
}

int kvm_get_dirty_log(const struct kvm *kvm, uint32_t slot, void *bitmap)
{
    struct kvm_dirty_log d = { .slot = slot, .dirty_bitmap = bitmap };

    return xioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &d);
}

int kvm_clear_dirty_log(const struct kvm *kvm, uint32_t slot, uint64_t first,
                        uint32_t num, void *bitmap)
{
    struct kvm_clear_dirty_log c = {
        .slot = slot, .first_page = first, .num_pages = num,
        .dirty_bitmap = bitmap,
    };

    return xioctl(kvm->vm_fd, KVM_CLEAR_DIRTY_LOG, &c);
}
