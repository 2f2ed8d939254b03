/* SPDX-License-Identifier: BSD-3-Clause */
/* What every kernel loader shares: the image read from disk, how vCPU 0
 * starts, the loader table entry boot.c chooses by (bzimage.c: Linux
 * 64-bit boot protocol, Documentation/x86/boot.rst; pvh.c: ELF with a PVH
 * entry note, xen/include/public/arch-x86/hvm/start_info.h), and where an
 * initrd goes. The loaders include this file and nothing of boot.c. */
#ifndef MINIVMM_X86_LOADER_H
#define MINIVMM_X86_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/e820.h"
#include "arch/x86/layout.h"

enum kernel_format {
    KERNEL_BZIMAGE = 1,
    KERNEL_PVH_ELF,
};

struct boot_image {
    enum kernel_format format;
    uint8_t *kernel;       /* whole file, malloc'd */
    size_t kernel_len;
    uint8_t *initrd;       /* whole file or NULL */
    size_t initrd_len;
    const char *cmdline;   /* borrowed, never NULL */
    uint64_t pvh_entry;    /* PVH: 32-bit entry GPA from the note */
};

/* How vCPU 0 starts. */
struct boot_entry {
    int long_mode;   /* 1: 64-bit Linux entry (paging on); 0: PVH 32-bit */
    uint64_t rip;
    uint64_t rsi;    /* Linux: GPA of boot_params */
    uint64_t rbx;    /* PVH: GPA of hvm_start_info */
};

struct guest_memory;

/* One kernel format: the 4 magic bytes at @magic_off that claim a file for
 * it, then @probe (validate headers: 0, or -EINVAL with the reason in @err;
 * PVH stores its entry GPA in *@pvh_entry) and @load (place the kernel and
 * the boot tables in guest RAM, the command line is already at
 * X86_CMDLINE_GPA; fill @entry: 0, or -errno with the reason in @err). */
struct boot_loader {
    enum kernel_format format;
    size_t magic_off;
    char magic[4];
    int (*probe)(const uint8_t *buf, size_t len, uint64_t *pvh_entry,
                 char *err, size_t errlen);
    int (*load)(const struct boot_image *img, struct guest_memory *mem,
                const struct e820_map *map, uint64_t rsdp_gpa,
                struct boot_entry *entry, char *err, size_t errlen);
};

/* Highest page-aligned GPA at which @len bytes fit in RAM below @limit
 * (exclusive) and above 1 MiB, per @map. 0 if none. */
uint64_t boot_initrd_addr(const struct e820_map *map, uint64_t len,
                          uint64_t limit);

#endif
