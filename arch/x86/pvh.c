/* SPDX-License-Identifier: BSD-3-Clause */
/* ELF kernels with a PVH entry note: XEN_ELFNOTE_PHYS32_ENTRY (18) in a
 * "Xen" note; entered in 32-bit protected mode with EBX pointing at
 * struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h,
 * version 1: memory map, command line, modules, RSDP). */
#include "arch/x86/pvh.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/memory.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC          0x336ec578

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");

struct hvm_modlist_entry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

#define PVH_MODLIST_GPA (X86_START_INFO_GPA + 0x40)
#define PVH_MEMMAP_GPA  (X86_START_INFO_GPA + 0x80)

/* A normalised view of ELF32/ELF64 program headers. */
struct phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

static int get_phdr(const uint8_t *buf, size_t len, unsigned int i,
                    struct phdr *ph)
{
    bool is64 = buf[EI_CLASS] == ELFCLASS64;
    size_t need = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    uint64_t phoff, off;
    uint16_t phentsize;

    if (is64) {
        Elf64_Ehdr eh;
        memcpy(&eh, buf, sizeof(eh));
        phoff = eh.e_phoff;
        phentsize = eh.e_phentsize;
    } else {
        Elf32_Ehdr eh;
        memcpy(&eh, buf, sizeof(eh));
        phoff = eh.e_phoff;
        phentsize = eh.e_phentsize;
    }
    off = phoff + (uint64_t)i * phentsize;
    if (phentsize < need || off > len || len - off < need)
        return -EINVAL;
    if (is64) {
        Elf64_Phdr p;
        memcpy(&p, buf + off, sizeof(p));
        *ph = (struct phdr){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz,
                             p.p_memsz };
    } else {
        Elf32_Phdr p;
        memcpy(&p, buf + off, sizeof(p));
        *ph = (struct phdr){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz,
                             p.p_memsz };
    }
    if (ph->offset > len || ph->filesz > len - ph->offset ||
        ph->filesz > ph->memsz)
        return -EINVAL;
    return 0;
}

static unsigned int phnum(const uint8_t *buf)
{
    if (buf[EI_CLASS] == ELFCLASS64)
        return ((const Elf64_Ehdr *)(const void *)buf)->e_phnum;
    return ((const Elf32_Ehdr *)(const void *)buf)->e_phnum;
}

/* Search one PT_NOTE segment for the PVH entry. 1 found, 0 not, <0 bad. */
static int find_pvh_note(const uint8_t *p, uint64_t len, uint64_t *entry)
{
    uint64_t off = 0;

    while (len - off >= 12) {
        uint32_t namesz, descsz, type;
        uint64_t name_off, desc_off, next;

        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        memcpy(&type, p + off + 8, 4);
        name_off = off + 12;
        desc_off = name_off + (((uint64_t)namesz + 3) & ~3ULL);
        next = desc_off + (((uint64_t)descsz + 3) & ~3ULL);
        if (next > len)
            return -EINVAL;
        if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
            memcmp(p + name_off, "Xen", 4) == 0) {
            if (descsz != 4 && descsz != 8)
                return -EINVAL;
            *entry = 0;
            memcpy(entry, p + desc_off, 4); /* low 32 bits: the entry */
            return 1;
        }
        off = next;
    }
    return 0;
}

static int pvh_probe(const uint8_t *buf, size_t len, uint64_t *entry,
                     char *err, size_t errlen)
{
    size_t ehsize;
    unsigned int n;
    int found = 0;

    if (len < EI_NIDENT || (buf[EI_CLASS] != ELFCLASS64 &&
                            buf[EI_CLASS] != ELFCLASS32) ||
        buf[EI_DATA] != ELFDATA2LSB) {
        snprintf(err, errlen, "not a little-endian ELF32/ELF64 file");
        return -EINVAL;
    }
    ehsize = buf[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr)
                                         : sizeof(Elf32_Ehdr);
    if (len < ehsize) {
        snprintf(err, errlen, "ELF header truncated");
        return -EINVAL;
    }
    n = phnum(buf);
    for (unsigned int i = 0; i < n; i++) {
        struct phdr ph;
        int r;

        if (get_phdr(buf, len, i, &ph) < 0) {
            snprintf(err, errlen, "ELF program header %u is malformed", i);
            return -EINVAL;
        }
        /* Past the note, still check every header: the loader uses all. */
        if (ph.type != PT_NOTE || found)
            continue;
        r = find_pvh_note(buf + ph.offset, ph.filesz, entry);
        if (r < 0) {
            snprintf(err, errlen, "ELF note segment %u is malformed", i);
            return -EINVAL;
        }
        found = r == 1;
    }
    if (found)
        return 0;
    snprintf(err, errlen, "ELF kernel has no PVH entry note "
             "(XEN_ELFNOTE_PHYS32_ENTRY); build Linux with CONFIG_PVH=y");
    return -EINVAL;
}

static int load_segments(const struct boot_image *img,
                         struct guest_memory *mem, uint64_t *end, char *err,
                         size_t errlen)
{
    unsigned int n = phnum(img->kernel);

    *end = 0;
    for (unsigned int i = 0; i < n; i++) {
        struct phdr ph;
        uint8_t *dst;

        if (get_phdr(img->kernel, img->kernel_len, i, &ph) < 0) {
            snprintf(err, errlen, "ELF program header %u is malformed", i);
            return -EINVAL;
        }
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        dst = guest_memory_hva(mem, ph.paddr, ph.memsz);
        if (!dst || ph.paddr < X86_HIMEM_START) {
            snprintf(err, errlen, "ELF segment %u [%#llx, +%#llx) is not "
                     "inside guest RAM above 1 MiB (more --memory?)", i,
                     (unsigned long long)ph.paddr,
                     (unsigned long long)ph.memsz);
            return -ENOSPC;
        }
        memcpy(dst, img->kernel + ph.offset, ph.filesz);
        memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
        if (ph.paddr + ph.memsz > *end)
            *end = ph.paddr + ph.memsz;
    }
    return 0;
}

static void write_memmap(struct guest_memory *mem, const struct e820_map *map)
{
    for (unsigned int i = 0; i < map->nr; i++) {
        struct hvm_memmap_table_entry e = {
            .addr = map->e[i].addr,
            .size = map->e[i].size,
            .type = map->e[i].type,
        };

        guest_memory_write(mem, PVH_MEMMAP_GPA + i * sizeof(e), &e,
                           sizeof(e));
    }
}

static int pvh_load(const struct boot_image *img, struct guest_memory *mem,
                    const struct e820_map *map, uint64_t rsdp_gpa,
                    struct boot_entry *entry, char *err, size_t errlen)
{
    struct hvm_start_info si = {
        .magic = HVM_START_MAGIC,
        .version = 1,
        .cmdline_paddr = X86_CMDLINE_GPA,
        .rsdp_paddr = rsdp_gpa,
        .memmap_paddr = PVH_MEMMAP_GPA,
        .memmap_entries = map->nr,
    };
    uint64_t end;
    int r;

    r = load_segments(img, mem, &end, err, errlen);
    if (r < 0)
        return r;
    if (img->initrd) {
        struct hvm_modlist_entry m = { .size = img->initrd_len };

        m.paddr = boot_initrd_addr(map, img->initrd_len, 1ULL << 32);
        if (m.paddr < end) {
            snprintf(err, errlen, "guest RAM too small for kernel + initrd");
            return -ENOSPC;
        }
        guest_memory_write(mem, m.paddr, img->initrd, img->initrd_len);
        guest_memory_write(mem, PVH_MODLIST_GPA, &m, sizeof(m));
        si.nr_modules = 1;
        si.modlist_paddr = PVH_MODLIST_GPA;
    }
    write_memmap(mem, map);
    guest_memory_write(mem, X86_START_INFO_GPA, &si, sizeof(si));
    entry->long_mode = 0;
    entry->rip = img->pvh_entry;
    entry->rbx = X86_START_INFO_GPA;
    return 0;
}

const struct boot_loader pvh_loader = {
    .format = KERNEL_PVH_ELF,
    .magic_off = 0,
    .magic = { 0x7f, 'E', 'L', 'F' },
    .probe = pvh_probe,
    .load = pvh_load,
};
