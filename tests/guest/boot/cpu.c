/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CPL0 setup, run once per CPU: GDT (shared), one TSS per CPU whose I/O
 * permission bitmap allows every port, the IDT, then iretq to CPL3 with
 * IF=1. kvm_pvm emulates CPL0, so this stays short.
 */
#include "boot/cpu.h"

#include "boot/layout.h"
#include "lib/exit.h"
#include "lib/lapic.h"
#include "lib/legacy.h"
#include "lib/printf.h"
#include "lib/smp.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

/*
 * The TSSes and the I/O bitmap they share: each TSS's iomap_base points
 * at the one bitmap after the array (all zero: every port allowed), and
 * the final 0xFF byte the CPU wants after a bitmap.
 */
struct tss_area {
    struct tss tss[MAX_CPUS];
    uint8_t iomap[65536 / 8];
    uint8_t iomap_end;
} __attribute__((packed, aligned(128)));

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16))) = {
    [SEL_KCODE64 / 8] = 0x00AF9A000000FFFFULL,
    [SEL_KDATA / 8] = 0x00CF92000000FFFFULL,
    [SEL_UDATA / 8] = 0x00CFF2000000FFFFULL,
    [SEL_UCODE64 / 8] = 0x00AFFA000000FFFFULL,
    [SEL_KCODE32 / 8] = 0x00CF9A000000FFFFULL,
};

static struct tss_area tss_area = { .iomap_end = 0xFF };
static struct idt_entry idt[256] __attribute__((aligned(16)));
static uint8_t ustacks[MAX_CPUS][USTACK_SIZE] __attribute__((aligned(16)));

extern char vector_stubs[];
extern char kstacks[];
extern char cpu_park_hlt[];

static void set_tss_desc(unsigned int cpu)
{
    uint64_t base = (uint64_t)(uintptr_t)&tss_area.tss[cpu];
    uint64_t limit = (uint64_t)(uintptr_t)&tss_area.iomap_end - base;
    unsigned int i = (SEL_TSS0 + 16 * cpu) / 8;

    gdt[i] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 |
             0x89ULL << 40 | ((limit >> 16) & 0xF) << 48 |
             ((base >> 24) & 0xFF) << 56;
    gdt[i + 1] = base >> 32;
    tss_area.tss[cpu].rsp0 = (uint64_t)(uintptr_t)(kstacks +
                                                   (cpu + 1) * KSTACK_SIZE);
    tss_area.tss[cpu].iomap_base =
        (uint16_t)((uintptr_t)tss_area.iomap - (uintptr_t)&tss_area.tss[cpu]);
}

static void fill_idt(void)
{
    for (unsigned int v = 0; v < 256; v++) {
        uint64_t a = (uint64_t)(uintptr_t)(vector_stubs + 16 * v);

        idt[v] = (struct idt_entry){
            .off_lo = (uint16_t)a,
            .sel = SEL_KCODE64,
            .type = 0x8E, /* present, DPL0, interrupt gate */
            .off_mid = (uint16_t)(a >> 16),
            .off_hi = (uint32_t)(a >> 32),
        };
    }
}

/* Load IDT and this CPU's TSS, then iretq to fn(cpu) at CPL3, IF=1. */
static void __attribute__((noreturn)) enter_user(unsigned int cpu,
                                                 void (*fn)(unsigned int))
{
    struct desc_ptr p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    uint64_t sp = (uint64_t)(uintptr_t)(ustacks[cpu] + USTACK_SIZE) - 8;

    __asm__ volatile("lidt %0" : : "m"(p));
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS0 + 16 * cpu));
    __asm__ volatile("pushq %[ss]\n\t"
                     "pushq %[sp]\n\t"
                     "pushq $0x202\n\t"
                     "pushq %[cs]\n\t"
                     "pushq %[ip]\n\t"
                     "movl %[ds], %%eax\n\t"
                     "movl %%eax, %%ds\n\t"
                     "movl %%eax, %%es\n\t"
                     "iretq"
                     :
                     : [ss] "i"(SEL_UDATA | 3), [sp] "r"(sp),
                       [cs] "i"(SEL_UCODE64 | 3), [ip] "r"(fn),
                       [ds] "i"(SEL_UDATA | 3), "D"(cpu)
                     : "rax", "memory");
    __builtin_unreachable();
}

static void bsp_main(unsigned int cpu)
{
    (void)cpu;
    payload_main();
    guest_exit(EXIT_PANIC);
}

void cpu_boot_bsp(void)
{
    /*
     * Firmware (SeaBIOS under QEMU) may leave the PIT ticking through the
     * 8259 at vector 8: mask legacy interrupts before IF=1 at CPL3.
     */
    pic_disable();
    lapic_init();
    for (unsigned int i = 0; i < MAX_CPUS; i++)
        set_tss_desc(i);
    fill_idt();
    enter_user(0, bsp_main);
}

void cpu_boot_ap(unsigned int cpu)
{
    enter_user(cpu, smp_ap_main);
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
    "#TS", "#NP", "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM",
    "#VE", "#CP", "?22", "?23", "?24", "?25", "?26", "?27", "#HV", "#VC",
    "#SX", "?31",
};

void exc_handle(struct exc_frame *f)
{
    uint64_t cr2;

    /* cpu_park(): the CPL3 hlt faults; stay halted at CPL0 instead. */
    if (f->vector == 13 && f->rip == (uint64_t)(uintptr_t)cpu_park_hlt)
        return;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    printf("\nEXCEPTION %s (vector %lu) err=%#lx rip=%#lx cs=%#lx "
           "rsp=%#lx rflags=%#lx cr2=%#lx\n",
           exc_names[f->vector & 31], f->vector, f->error, f->rip, f->cs,
           f->rsp, f->rflags, cr2);
    printf("  rax=%#lx rbx=%#lx rcx=%#lx rdx=%#lx rsi=%#lx rdi=%#lx\n",
           f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi);
    guest_exit(EXIT_EXCEPTION + (int)(f->vector & 31));
}
