/* SPDX-License-Identifier: BSD-3-Clause */
/* Instructions KVM failed to emulate that minivmm completes itself, and
 * the crash dump (see cpu.h). Software-emulating KVM implementations such
 * as kvm_pvm lack a few CPL0 instructions (int3, fwait); on hardware KVM
 * these never reach us. */
#include "arch/x86/cpu.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/memory.h"

#define CR0_PG   (1ULL << 31)
#define CR4_PSE  (1ULL << 4)
#define CR4_PAE  (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LMA (1ULL << 10)
#define PTE_P    1ULL
#define PTE_PS   (1ULL << 7)
#define PTE_ADDR 0x000ffffffffff000ULL

static int read_pte(const struct guest_memory *mem, uint64_t gpa,
                    uint64_t *pte)
{
    return guest_memory_read(mem, gpa, pte, sizeof(*pte));
}

static int walk_long(const struct guest_memory *mem, const struct kvm_sregs *s,
                     uint64_t gva, uint64_t *gpa)
{
    int levels = (s->cr4 & CR4_LA57) ? 5 : 4;
    uint64_t table = s->cr3 & PTE_ADDR;

    for (int lvl = levels; lvl >= 1; lvl--) {
        unsigned int shift = 12 + 9 * (unsigned int)(lvl - 1);
        uint64_t pte;

        if (read_pte(mem, table + ((gva >> shift) & 511) * 8, &pte) < 0 ||
            !(pte & PTE_P))
            return -EFAULT;
        if (lvl == 1 || ((pte & PTE_PS) && lvl <= 3)) {
            uint64_t mask = (1ULL << shift) - 1;

            *gpa = ((pte & PTE_ADDR) & ~mask) | (gva & mask);
            return 0;
        }
        table = pte & PTE_ADDR;
    }
    return -EFAULT;
}

static int walk_32(const struct guest_memory *mem, const struct kvm_sregs *s,
                   uint64_t gva, uint64_t *gpa)
{
    uint32_t pde, pte;
    uint64_t dir = s->cr3 & 0xfffff000;

    if (guest_memory_read(mem, dir + ((gva >> 22) & 1023) * 4, &pde, 4) < 0 ||
        !(pde & PTE_P))
        return -EFAULT;
    if ((pde & PTE_PS) && (s->cr4 & CR4_PSE)) {
        *gpa = (pde & 0xffc00000) | (gva & 0x3fffff);
        return 0;
    }
    if (guest_memory_read(mem, (pde & 0xfffff000) + ((gva >> 12) & 1023) * 4,
                          &pte, 4) < 0 || !(pte & PTE_P))
        return -EFAULT;
    *gpa = (pte & 0xfffff000) | (gva & 0xfff);
    return 0;
}

static int walk_pae(const struct guest_memory *mem, const struct kvm_sregs *s,
                    uint64_t gva, uint64_t *gpa)
{
    uint64_t pdpte, pde, pte;

    if (read_pte(mem, (s->cr3 & 0xffffffe0) + ((gva >> 30) & 3) * 8,
                 &pdpte) < 0 || !(pdpte & PTE_P))
        return -EFAULT;
    if (read_pte(mem, (pdpte & PTE_ADDR) + ((gva >> 21) & 511) * 8, &pde) <
            0 || !(pde & PTE_P))
        return -EFAULT;
    if (pde & PTE_PS) {
        *gpa = ((pde & PTE_ADDR) & ~0x1fffffULL) | (gva & 0x1fffff);
        return 0;
    }
    if (read_pte(mem, (pde & PTE_ADDR) + ((gva >> 12) & 511) * 8, &pte) <
            0 || !(pte & PTE_P))
        return -EFAULT;
    *gpa = (pte & PTE_ADDR) | (gva & 0xfff);
    return 0;
}

int x86_gva_to_gpa(const struct guest_memory *mem, const struct kvm_sregs *s,
                   uint64_t gva, uint64_t *gpa)
{
    if (!(s->cr0 & CR0_PG)) {
        *gpa = gva & 0xffffffffULL;
        return 0;
    }
    if (s->efer & EFER_LMA)
        return walk_long(mem, s, gva, gpa);
    if (s->cr4 & CR4_PAE)
        return walk_pae(mem, s, gva & 0xffffffffULL, gpa);
    return walk_32(mem, s, gva & 0xffffffffULL, gpa);
}

int x86_fetch_insn(int vcpu_fd, const struct guest_memory *mem,
                   unsigned char *buf, int len)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    int n = 0, ret;

    ret = kvm_vcpu_ioctl(vcpu_fd, KVM_GET_REGS, &r);
    if (ret == 0)
        ret = kvm_vcpu_ioctl(vcpu_fd, KVM_GET_SREGS, &s);
    if (ret < 0)
        return ret;
    /* Byte by byte: the instruction may cross a page boundary. */
    for (; n < len; n++) {
        uint64_t lin = ((s.efer & EFER_LMA) && s.cs.l ? 0 : s.cs.base) +
                       r.rip + (uint64_t)n;
        uint64_t gpa;

        if (x86_gva_to_gpa(mem, &s, lin, &gpa) < 0 ||
            guest_memory_read(mem, gpa, &buf[n], 1) < 0)
            break;
    }
    return n ? n : -EFAULT;
}

static int inject_bp(int vcpu_fd, struct kvm_regs *r)
{
    struct kvm_vcpu_events ev;
    int ret = kvm_vcpu_ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &ev);

    if (ret < 0)
        return ret;
    r->rip += 1; /* #BP is a trap: the frame holds the next RIP */
    ret = kvm_vcpu_ioctl(vcpu_fd, KVM_SET_REGS, r);
    if (ret < 0)
        return ret;
    ev.exception.injected = 1;
    ev.exception.nr = 3;
    ev.exception.has_error_code = 0;
    ev.exception.error_code = 0;
    ev.flags = 0;
    return kvm_vcpu_ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &ev);
}

int x86_complete_emulation(int vcpu_fd, const struct guest_memory *mem)
{
    unsigned char insn[1];
    struct kvm_regs r;
    int ret;

    if (x86_fetch_insn(vcpu_fd, mem, insn, 1) != 1)
        return 0;
    ret = kvm_vcpu_ioctl(vcpu_fd, KVM_GET_REGS, &r);
    if (ret < 0)
        return ret;
    switch (insn[0]) {
    case 0xcc: /* int3 */
        ret = inject_bp(vcpu_fd, &r);
        return ret < 0 ? ret : 1;
    case 0x9b: /* fwait: no x87 exception can be pending here */
        r.rip += 1;
        ret = kvm_vcpu_ioctl(vcpu_fd, KVM_SET_REGS, &r);
        return ret < 0 ? ret : 1;
    default:
        return 0;
    }
}

static void dump_seg(const char *name, const struct kvm_segment *s)
{
    log_err("  %-3s sel=%04x base=%016llx limit=%08x type=%x dpl=%u p=%u "
            "l=%u db=%u", name, s->selector, (unsigned long long)s->base,
            s->limit, s->type, s->dpl, s->present, s->l, s->db);
}

void x86_vcpu_dump(int vcpu_fd, const struct guest_memory *mem)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    unsigned char insn[16];
    char code[16 * 3 + 1] = "";
    int n;

    if (kvm_vcpu_ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0 ||
        kvm_vcpu_ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
        log_err("  (registers unavailable)");
        return;
    }
    log_err("  rip=%016llx rsp=%016llx rflags=%016llx", r.rip, r.rsp,
            r.rflags);
    log_err("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx", r.rax,
            r.rbx, r.rcx, r.rdx);
    log_err("  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx", r.rsi,
            r.rdi, r.rbp, r.r8);
    log_err("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx",
            s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
    dump_seg("cs", &s.cs);
    dump_seg("ss", &s.ss);
    dump_seg("tr", &s.tr);
    n = x86_fetch_insn(vcpu_fd, mem, insn, (int)sizeof(insn));
    for (int i = 0; i < n && i < (int)sizeof(insn); i++)
        snprintf(code + 3 * i, sizeof(code) - 3 * (size_t)i, " %02x", insn[i]);
    log_err("  code at rip:%s", n > 0 ? code : " (not readable)");
}
