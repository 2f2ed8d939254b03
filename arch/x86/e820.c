/* SPDX-License-Identifier: BSD-3-Clause */
/* e820 map builder (see e820.h). */
#include "arch/x86/e820.h"

#include "arch/x86/layout.h"
#include "vmm/memory.h"

static void add(struct e820_map *m, uint64_t addr, uint64_t size,
                uint32_t type)
{
    if (size && m->nr < E820_MAX)
        m->e[m->nr++] = (struct e820_entry){ addr, size, type };
}

void e820_build(const struct guest_memory *mem, struct e820_map *map)
{
    uint64_t low = guest_memory_low_size(mem);

    map->nr = 0;
    add(map, 0, low < X86_EBDA_START ? low : X86_EBDA_START, E820_RAM);
    add(map, X86_EBDA_START, X86_HIMEM_START - X86_EBDA_START,
        E820_RESERVED);
    if (low > X86_HIMEM_START)
        add(map, X86_HIMEM_START, low - X86_HIMEM_START, E820_RAM);
    add(map, X86_ECAM_BASE, X86_ECAM_SIZE, E820_RESERVED);
    for (unsigned int i = 1; i < mem->nregions; i++)
        add(map, mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
}
