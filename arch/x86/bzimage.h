/* SPDX-License-Identifier: BSD-3-Clause */
/* The Linux bzImage loader (64-bit boot protocol, Documentation/x86/
 * boot.rst), one entry of boot.c's loader table. */
#ifndef MINIVMM_X86_BZIMAGE_H
#define MINIVMM_X86_BZIMAGE_H

#include "arch/x86/loader.h"

/* Claims files with "HdrS" at 0x202; needs boot protocol >= 2.12 with
 * XLF_KERNEL_64. */
extern const struct boot_loader bzimage_loader;

#endif
