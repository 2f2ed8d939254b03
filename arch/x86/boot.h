/* SPDX-License-Identifier: BSD-3-Clause */
/* Loading a guest kernel: Linux bzImage via the 64-bit boot protocol
 * (Documentation/x86/boot.rst) or an ELF with a PVH entry note
 * (XEN_ELFNOTE_PHYS32_ENTRY; xen/include/public/arch-x86/hvm/start_info.h).
 *
 * boot_image_open() reads and validates the files before any VM exists, so
 * bad input is reported with nothing created. boot_image_load() then places
 * the kernel, initrd, command line and boot tables in guest RAM and says how
 * vCPU 0 must start.
 */
#ifndef MINIVMM_BOOT_H
#define MINIVMM_BOOT_H

#include "arch/x86/loader.h"

/* Read @kernel_path (and @initrd_path if not NULL), detect the format and
 * validate headers. 0, or -errno with a one-line reason in @err. */
int boot_image_open(struct boot_image *img, const char *kernel_path,
                    const char *initrd_path, const char *cmdline, char *err,
                    size_t errlen);
void boot_image_close(struct boot_image *img);

/* Detect the format of a kernel image in memory. KERNEL_* or -EINVAL with
 * the reason in @err. Exposed for tests and fuzzing. */
int boot_image_probe(const uint8_t *buf, size_t len, uint64_t *pvh_entry,
                     char *err, size_t errlen);

/* Place everything in guest RAM. @rsdp_gpa: where ACPI's RSDP is (0 if
 * none). 0 or -errno with the reason in @err (e.g. RAM too small). */
int boot_image_load(const struct boot_image *img, struct guest_memory *mem,
                    const struct e820_map *map, uint64_t rsdp_gpa,
                    struct boot_entry *entry, char *err, size_t errlen);

#endif
