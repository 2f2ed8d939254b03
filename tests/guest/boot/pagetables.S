/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Identity page tables, built at assembly time: the first 4 GiB with 2 MiB
 * pages (3-4 GiB, the MMIO hole, uncached) and the first 1 GiB of the
 * 64-bit PCI window at 0x80_0000_0000 (uncached). Every entry has U/S=1 so
 * CPL3 code reaches RAM and MMIO directly.
 */
#define PTE_P   0x01
#define PTE_W   0x02
#define PTE_U   0x04
#define PTE_PWT 0x08
#define PTE_PCD 0x10
#define PTE_PS  0x80
#define DIR     (PTE_P | PTE_W | PTE_U)
#define BIG     (PTE_P | PTE_W | PTE_U | PTE_PS)
#define BIG_UC  (BIG | PTE_PWT | PTE_PCD)

    .section .data.pagetables, "aw"
    .balign 4096
    .globl pml4
pml4:
    .quad pdpt_low + DIR
    .quad pdpt_hi + DIR             /* 512 GiB - 1 TiB */
    .fill 510, 8, 0

pdpt_low:
    .quad pd_low + DIR
    .quad pd_low + 0x1000 + DIR
    .quad pd_low + 0x2000 + DIR
    .quad pd_low + 0x3000 + DIR
    .fill 508, 8, 0

pdpt_hi:
    .quad pd_hi + DIR
    .fill 511, 8, 0

pd_low:
    .set i, 0
    .rept 2048
    .if i >= 1536
    .quad (i << 21) + BIG_UC
    .else
    .quad (i << 21) + BIG
    .endif
    .set i, i + 1
    .endr

pd_hi:
    .set i, 0
    .rept 512
    .quad 0x8000000000 + (i << 21) + BIG_UC
    .set i, i + 1
    .endr
