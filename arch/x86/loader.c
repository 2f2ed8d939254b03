/* SPDX-License-Identifier: BSD-3-Clause */
/* Placement helpers shared by the kernel loaders (see loader.h). */
#include "arch/x86/loader.h"

uint64_t boot_initrd_addr(const struct e820_map *map, uint64_t len,
                          uint64_t limit)
{
    uint64_t best = 0;

    for (unsigned int i = 0; i < map->nr; i++) {
        const struct e820_entry *e = &map->e[i];
        uint64_t end = e->addr + e->size;
        uint64_t a;

        if (e->type != E820_RAM || e->addr < 0x100000)
            continue;
        if (end > limit)
            end = limit;
        if (end < e->addr + len || end < len)
            continue;
        a = (end - len) & ~0xfffULL;
        if (a >= e->addr && a > best)
            best = a;
    }
    return best;
}
