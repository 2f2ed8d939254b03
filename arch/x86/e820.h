/* SPDX-License-Identifier: BSD-3-Clause */
/* The guest's physical memory map (e820 types), built once from the RAM
 * layout and handed to the guest in boot_params (bzImage) or in the PVH
 * start info memmap. Pure: no I/O. Layout in docs/platform.md. */
#ifndef MINIVMM_E820_H
#define MINIVMM_E820_H

#include <stdint.h>

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_MAX      16

struct e820_entry {
    uint64_t addr; /* GPA, bytes */
    uint64_t size; /* bytes */
    uint32_t type; /* E820_* */
};

struct e820_map {
    unsigned int nr;
    struct e820_entry e[E820_MAX];
};

struct guest_memory;

/* Fill @map for @mem: low 640 KiB RAM, the BIOS area (ACPI tables) reserved,
 * RAM from 1 MiB to the PCI hole, ECAM reserved, RAM above 4 GiB. */
void e820_build(const struct guest_memory *mem, struct e820_map *map);

#endif
