/* SPDX-License-Identifier: BSD-3-Clause */
/* vCPU creation-time and boot-time state (see cpu.h). */
#include "arch/x86/cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/loader.h"
#include "arch/x86/layout.h"
#include "arch/x86/msrs.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_IA32_CR_PAT         0x277
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

#define APIC_LVT0               0x350
#define APIC_LVT1               0x360
#define APIC_MODE_NMI           0x4
#define APIC_MODE_EXTINT        0x7

static int set_msrs(int fd)
{
    static const struct { uint32_t index; uint64_t data; } init[] = {
        { MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
        { MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
        { MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 },
        { MSR_LSTAR, 0 }, { MSR_IA32_TSC, 0 },
        { MSR_IA32_MISC_ENABLE, 1 /* fast strings */ },
        { MSR_IA32_CR_PAT, 0x0007040600070406ULL /* power-on value */ },
        { MSR_MTRR_DEF_TYPE, (1 << 11) | 6 /* MTRRs on, default WB */ },
    };
    enum { N = sizeof(init) / sizeof(init[0]) };
    struct kvm_msr_entry e[N];
    int r;

    memset(e, 0, sizeof(e));
    for (unsigned int i = 0; i < N; i++) {
        e[i].index = init[i].index;
        e[i].data = init[i].data;
    }
    /* A host without one of them (e.g. MTRRs) must not keep the others
     * from being set: x86_set_msrs() skips a refused one. */
    r = x86_set_msrs(fd, e, N, NULL, NULL);
    return r < 0 ? r : 0;
}

static void lapic_set(struct kvm_lapic_state *l, unsigned int reg,
                      uint32_t v)
{
    memcpy(&l->regs[reg], &v, 4);
}

static uint32_t lapic_get(const struct kvm_lapic_state *l, unsigned int reg)
{
    uint32_t v;

    memcpy(&v, &l->regs[reg], 4);
    return v;
}

static int set_lint(int fd)
{
    struct kvm_lapic_state l;
    int r = kvm_vcpu_ioctl(fd, KVM_GET_LAPIC, &l);

    if (r < 0)
        return r;
    lapic_set(&l, APIC_LVT0, (lapic_get(&l, APIC_LVT0) & ~0x700u) |
                                 (APIC_MODE_EXTINT << 8));
    lapic_set(&l, APIC_LVT1, (lapic_get(&l, APIC_LVT1) & ~0x700u) |
                                 (APIC_MODE_NMI << 8));
    return kvm_vcpu_ioctl(fd, KVM_SET_LAPIC, &l);
}

int x86_vcpu_setup(int vcpu_fd, const struct kvm_cpuid2 *cpuid)
{
    struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
    int r;

    r = kvm_vcpu_ioctl(vcpu_fd, KVM_SET_CPUID2, (void *)cpuid);
    if (r < 0)
        return r;
    r = set_msrs(vcpu_fd);
    if (r < 0)
        return r;
    r = kvm_vcpu_ioctl(vcpu_fd, KVM_SET_FPU, &fpu);
    if (r < 0)
        return r;
    return set_lint(vcpu_fd);
}

static void flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
                     int code64)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
        .present = 1, .dpl = 0, .db = !code64, .s = 1, .l = code64,
        .g = 1,
    };
}

/* Boot GDT and page tables identity-mapping 4 GiB with 2 MiB pages. */
static int write_long_mode_tables(struct guest_memory *mem)
{
    static const uint64_t gdt[4] = { 0, 0, 0x00af9a000000ffffULL,
                                     0x00cf92000000ffffULL };
    uint64_t *pml4 = guest_memory_hva(mem, X86_PML4_GPA, 4096);
    uint64_t *pdpt = guest_memory_hva(mem, X86_PDPT_GPA, 4096);
    uint64_t *pd = guest_memory_hva(mem, X86_PD_GPA, 4 * 4096);

    if (!pml4 || !pdpt || !pd ||
        guest_memory_write(mem, X86_GDT_GPA, gdt, sizeof(gdt)) < 0)
        return -ENOSPC;
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = X86_PDPT_GPA | 0x3;
    for (uint64_t i = 0; i < 4; i++)
        pdpt[i] = (X86_PD_GPA + i * 4096) | 0x3;
    for (uint64_t i = 0; i < 4 * 512; i++)
        pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB */
    return 0;
}

static void boot_sregs(struct kvm_sregs *s, const struct boot_entry *e)
{
    flat_seg(&s->cs, 0x10, 0xb, e->long_mode);
    flat_seg(&s->ds, 0x18, 0x3, 0);
    s->es = s->fs = s->gs = s->ss = s->ds;
    s->tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb,
                                  .present = 1 };
    s->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 0x2,
                                   .present = 1 };
    if (e->long_mode) {
        s->gdt.base = X86_GDT_GPA;
        s->gdt.limit = 4 * 8 - 1;
        s->cr0 = 0x80050033; /* PG WP NE ET MP PE */
        s->cr3 = X86_PML4_GPA;
        s->cr4 = 0x20;       /* PAE */
        s->efer = 0x500;     /* LMA LME */
    } else {
        s->cr0 = 0x11;       /* ET PE */
        s->cr4 = 0;
        s->efer = 0;
    }
}

int x86_vcpu_boot(int vcpu_fd, const struct boot_entry *e,
                  struct guest_memory *mem)
{
    struct kvm_sregs s;
    struct kvm_regs r = { .rflags = 0x2, .rip = e->rip, .rsi = e->rsi,
                          .rbx = e->rbx, .rsp = X86_BOOT_STACK_GPA };
    int ret;

    if (e->long_mode && (ret = write_long_mode_tables(mem)) < 0)
        return ret;
    ret = kvm_vcpu_ioctl(vcpu_fd, KVM_GET_SREGS, &s);
    if (ret < 0)
        return ret;
    boot_sregs(&s, e);
    ret = kvm_vcpu_ioctl(vcpu_fd, KVM_SET_SREGS, &s);
    if (ret < 0)
        return ret;
    return kvm_vcpu_ioctl(vcpu_fd, KVM_SET_REGS, &r);
}
