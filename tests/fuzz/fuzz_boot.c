/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: kernel image detection and loading.
 *
 * Feeds the input to boot_image_probe() (bzImage header checks, ELF program
 * headers and PVH note parsing) and, when it is accepted, loads it with
 * boot_image_load() into a small guest RAM, the way minivmm would: every
 * accepted image must load or fail cleanly, never read outside its buffer.
 *
 * Sources it needs (no KVM): tests/fuzz/fuzz_boot.c arch/x86/boot.c
 * arch/x86/loader.c arch/x86/bzimage.c arch/x86/pvh.c arch/x86/e820.c
 * vmm/memory.c, e.g.
 *   clang -std=gnu11 -g -O1 -I. -D_GNU_SOURCE \
 *       -fsanitize=fuzzer,address,undefined -o build-fuzz/fuzz_boot \
 *       tests/fuzz/fuzz_boot.c arch/x86/boot.c arch/x86/loader.c \
 *       arch/x86/bzimage.c arch/x86/pvh.c arch/x86/e820.c vmm/memory.c
 *   build-fuzz/fuzz_boot -max_len=65536
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/e820.h"
#include "vmm/memory.h"

#define FUZZ_RAM (32ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Guest RAM is created once per process (a memfd per input would dominate
 * the run time); loads overwrite it, which is fine for the fuzzer. */
static struct guest_memory *fuzz_memory(struct e820_map *map)
{
    static struct guest_memory mem;
    static int ready;

    if (!ready) {
        if (guest_memory_create(FUZZ_RAM, &mem) < 0)
            abort();
        ready = 1;
    }
    e820_build(&mem, map);
    return &mem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t initrd[4096] = { 0x1f, 0x8b };
    struct boot_image img = { 0 };
    struct boot_entry entry;
    struct e820_map map;
    char err[256];
    uint8_t *copy;
    int r;

    /* An exact-size heap copy, so ASan sees any over-read. */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    r = boot_image_probe(copy, size, &img.pvh_entry, err, sizeof(err));
    if (r > 0) {
        struct guest_memory *mem = fuzz_memory(&map);

        img.format = (enum kernel_format)r;
        img.kernel = copy;
        img.kernel_len = size;
        img.cmdline = "console=ttyS0";
        /* Use the last input byte to decide whether an initrd is given. */
        if (size && (copy[size - 1] & 1)) {
            img.initrd = (uint8_t *)initrd;
            img.initrd_len = sizeof(initrd);
        }
        boot_image_load(&img, mem, &map, 0xe0000, &entry, err, sizeof(err));
    }
    free(copy);
    return 0;
}
