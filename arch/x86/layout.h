/* SPDX-License-Identifier: BSD-3-Clause */
/* Fixed guest-physical addresses used while booting (docs/platform.md). */
#ifndef MINIVMM_X86_LAYOUT_H
#define MINIVMM_X86_LAYOUT_H

#define X86_GDT_GPA         0x500ULL    /* boot GDT (64-bit Linux entry) */
#define X86_START_INFO_GPA  0x6000ULL   /* PVH hvm_start_info + tables */
#define X86_ZERO_PAGE_GPA   0x7000ULL   /* Linux boot_params */
#define X86_PML4_GPA        0x9000ULL   /* boot page tables: PML4, PDPT, */
#define X86_PDPT_GPA        0xA000ULL   /*   4 PDs identity-mapping 4 GiB */
#define X86_PD_GPA          0xB000ULL   /*   (0xB000-0xEFFF) */
#define X86_BOOT_STACK_GPA  0x8FF0ULL
#define X86_CMDLINE_GPA     0x20000ULL
#define X86_CMDLINE_MAX_LEN 0x10000U    /* bytes, including the NUL */
#define X86_EBDA_START      0x9FC00ULL
#define X86_FW_TABLES_GPA   0xE0000ULL  /* ACPI (RSDP first) + MP table */
#define X86_FW_TABLES_SIZE  0x20000ULL
#define X86_HIMEM_START     0x100000ULL /* kernel load address */
#define X86_ECAM_BASE       0xE0000000ULL
#define X86_ECAM_SIZE       0x10000000ULL
#define X86_KVM_TSS_GPA     0xFFFBC000ULL /* KVM_SET_TSS_ADDR (VMX) */

#endif
