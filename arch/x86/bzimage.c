/* SPDX-License-Identifier: BSD-3-Clause */
/* Linux bzImage, 64-bit boot protocol (Documentation/x86/boot.rst:
 * "64-bit Boot Protocol"): the protected-mode kernel at 1 MiB, boot_params
 * (the "zero page") with a copy of the setup header, e820 map, command line
 * and initrd; entry at load address + 0x200 in long mode. */
#include "arch/x86/bzimage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/endian.h"
#include "vmm/memory.h"

/* Offsets into struct boot_params / setup_header (asm/bootparam.h). */
#define BP_ACPI_RSDP     0x070
#define BP_EXT_RD_IMAGE  0x0c0
#define BP_EXT_RD_SIZE   0x0c4
#define BP_EXT_CMD_PTR   0x0c8
#define BP_E820_ENTRIES  0x1e8
#define BP_HDR           0x1f1 /* setup_sects: first byte of setup_header */
#define BP_JUMP_END      0x201 /* header length - 0x202 lives here */
#define BP_VERSION       0x206
#define BP_LOADER_TYPE   0x210
#define BP_LOADFLAGS     0x211
#define BP_RD_IMAGE      0x218
#define BP_RD_SIZE       0x21c
#define BP_HEAP_END      0x224
#define BP_CMD_PTR       0x228
#define BP_INITRD_MAX    0x22c
#define BP_XLOADFLAGS    0x236
#define BP_INIT_SIZE     0x260
#define BP_E820_TABLE    0x2d0
#define BP_E820_MAX      128
#define BP_SIZE          4096

#define XLF_KERNEL_64    (1 << 0)
#define LOADED_HIGH      (1 << 0)
#define CAN_USE_HEAP     (1 << 7)
#define BZ_MIN_VERSION   0x20c /* xloadflags */

static size_t setup_bytes(const uint8_t *buf)
{
    unsigned int sects = buf[BP_HDR] ? buf[BP_HDR] : 4;

    return (sects + 1) * 512;
}

static int bzimage_probe(const uint8_t *buf, size_t len, uint64_t *pvh_entry,
                         char *err, size_t errlen)
{
    (void)pvh_entry; /* PVH only */
    /* First: the fields read below lie up to BP_XLOADFLAGS + 2. */
    if (len < BP_HDR + 0x80 || len <= setup_bytes(buf)) {
        snprintf(err, errlen, "bzImage is truncated");
        return -EINVAL;
    }
    if (le16_load(buf + BP_VERSION) < BZ_MIN_VERSION) {
        snprintf(err, errlen, "bzImage boot protocol %#x is older than "
                 "2.12 (no 64-bit entry)", le16_load(buf + BP_VERSION));
        return -EINVAL;
    }
    if (!(le16_load(buf + BP_XLOADFLAGS) & XLF_KERNEL_64)) {
        snprintf(err, errlen, "bzImage has no 64-bit entry point "
                 "(XLF_KERNEL_64 unset)");
        return -EINVAL;
    }
    return 0;
}

static void fill_e820(uint8_t *bp, const struct e820_map *map)
{
    unsigned int n = map->nr < BP_E820_MAX ? map->nr : BP_E820_MAX;

    for (unsigned int i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + i * 20;

        memcpy(e, &map->e[i].addr, 8);
        memcpy(e + 8, &map->e[i].size, 8);
        memcpy(e + 16, &map->e[i].type, 4);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;
}

static int place_initrd(const struct boot_image *img,
                        struct guest_memory *mem, const struct e820_map *map,
                        uint8_t *bp, uint64_t kernel_end, char *err,
                        size_t errlen)
{
    uint64_t limit = (uint64_t)le32_load(bp + BP_INITRD_MAX) + 1;
    uint64_t addr;

    if (!img->initrd)
        return 0;
    addr = boot_initrd_addr(map, img->initrd_len, limit);
    if (addr < kernel_end) {
        snprintf(err, errlen, "guest RAM too small for kernel + initrd "
                 "(%zu bytes below %#llx)", img->initrd_len,
                 (unsigned long long)limit);
        return -ENOSPC;
    }
    guest_memory_write(mem, addr, img->initrd, img->initrd_len);
    le32_store(bp + BP_RD_IMAGE, (uint32_t)addr);
    le32_store(bp + BP_RD_SIZE, (uint32_t)img->initrd_len);
    le32_store(bp + BP_EXT_RD_IMAGE, (uint32_t)(addr >> 32));
    le32_store(bp + BP_EXT_RD_SIZE, (uint32_t)((uint64_t)img->initrd_len >> 32));
    return 0;
}

static int bzimage_load(const struct boot_image *img,
                        struct guest_memory *mem, const struct e820_map *map,
                        uint64_t rsdp_gpa, struct boot_entry *entry,
                        char *err, size_t errlen)
{
    const uint8_t *k = img->kernel;
    size_t setup = setup_bytes(k), pm_len = img->kernel_len - setup;
    size_t hdr_end = 0x202 + k[BP_JUMP_END];
    uint8_t bp[BP_SIZE] = { 0 };
    uint64_t kernel_end;
    int r;

    if (hdr_end > BP_E820_TABLE)
        hdr_end = BP_E820_TABLE;
    kernel_end = X86_HIMEM_START + pm_len;
    if (kernel_end < X86_HIMEM_START + le32_load(k + BP_INIT_SIZE))
        kernel_end = X86_HIMEM_START + le32_load(k + BP_INIT_SIZE);
    if (!guest_memory_hva(mem, X86_HIMEM_START, kernel_end - X86_HIMEM_START)) {
        snprintf(err, errlen, "guest RAM too small for the kernel (needs "
                 "%llu MiB)", (unsigned long long)(kernel_end >> 20) + 1);
        return -ENOSPC;
    }
    guest_memory_write(mem, X86_HIMEM_START, k + setup, pm_len);

    memcpy(bp + BP_HDR, k + BP_HDR, hdr_end - BP_HDR);
    bp[BP_LOADER_TYPE] = 0xff;
    bp[BP_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
    bp[BP_HEAP_END] = 0x00;
    bp[BP_HEAP_END + 1] = 0xfe; /* 0xfe00 */
    le32_store(bp + BP_CMD_PTR, (uint32_t)X86_CMDLINE_GPA);
    le32_store(bp + BP_EXT_CMD_PTR, 0);
    le64_store(bp + BP_ACPI_RSDP, rsdp_gpa);
    fill_e820(bp, map);
    r = place_initrd(img, mem, map, bp, kernel_end, err, errlen);
    if (r < 0)
        return r;
    guest_memory_write(mem, X86_ZERO_PAGE_GPA, bp, sizeof(bp));

    entry->long_mode = 1;
    entry->rip = X86_HIMEM_START + 0x200;
    entry->rsi = X86_ZERO_PAGE_GPA;
    return 0;
}

const struct boot_loader bzimage_loader = {
    .format = KERNEL_BZIMAGE,
    .magic_off = 0x202,
    .magic = { 'H', 'd', 'r', 'S' },
    .probe = bzimage_probe,
    .load = bzimage_load,
};
