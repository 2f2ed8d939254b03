/* SPDX-License-Identifier: BSD-3-Clause */
/* The PVH ELF loader (XEN_ELFNOTE_PHYS32_ENTRY, struct hvm_start_info),
 * one entry of boot.c's loader table. */
#ifndef MINIVMM_X86_PVH_H
#define MINIVMM_X86_PVH_H

#include "arch/x86/loader.h"

/* Claims files starting with "\177ELF"; needs a little-endian ELF32/ELF64
 * with a PVH entry note. */
extern const struct boot_loader pvh_loader;

#endif
