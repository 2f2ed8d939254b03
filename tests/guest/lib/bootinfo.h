/* SPDX-License-Identifier: BSD-3-Clause */
/* The PVH struct hvm_start_info the VMM passed in EBX, and the cmdline. */
#ifndef GUEST_LIB_BOOTINFO_H
#define GUEST_LIB_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578

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

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

/* The start info, or NULL if EBX did not point at a valid one. */
const struct hvm_start_info *bootinfo(void);

/* The command line ("" if none). */
const char *bootinfo_cmdline(void);

/*
 * Find "key=value" in the command line (words separated by spaces); copy
 * value into buf. Returns 0, -ENOENT if absent, -ERANGE if too long.
 */
int cmdline_get(const char *key, char *buf, size_t len);

/* Like cmdline_get for a number (decimal or 0x hex); -EINVAL if bad. */
int cmdline_get_u64(const char *key, uint64_t *out);

#endif
