/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel image files: reading, format detection, dispatch (see boot.h). */
#include "arch/x86/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/bzimage.h"
#include "arch/x86/pvh.h"
#include "vmm/memory.h"

#define BOOT_FILE_MAX (1ULL << 31) /* 2 GiB: no kernel or initrd is larger */

/* The loaders, in the order they are asked to claim a file. */
static const struct boot_loader *const loaders[] = {
    &pvh_loader,
    &bzimage_loader,
};

static const struct boot_loader *loader_for(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
        const struct boot_loader *l = loaders[i];

        if (len >= l->magic_off + sizeof(l->magic) &&
            memcmp(buf + l->magic_off, l->magic, sizeof(l->magic)) == 0)
            return l;
    }
    return NULL;
}

static const struct boot_loader *loader_of(enum kernel_format format)
{
    for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++)
        if (loaders[i]->format == format)
            return loaders[i];
    return NULL;
}

static int read_file(const char *path, const char *what, uint8_t **buf,
                     size_t *len, char *err, size_t errlen)
{
    struct stat st;
    uint8_t *p;
    size_t done = 0;
    int fd, ret;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot open %s '%s': %s", what, path,
                 strerror(errno));
        return ret;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
        (uint64_t)st.st_size > BOOT_FILE_MAX) {
        snprintf(err, errlen, "%s '%s' is not a regular file of 1 byte to "
                 "2 GiB", what, path);
        close(fd);
        return -EINVAL;
    }
    p = malloc((size_t)st.st_size);
    if (!p) {
        close(fd);
        snprintf(err, errlen, "out of memory reading %s '%s'", what, path);
        return -ENOMEM;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, p + done, (size_t)st.st_size - done);

        if (n <= 0) {
            ret = n < 0 ? -errno : -EIO;
            snprintf(err, errlen, "cannot read %s '%s': %s", what, path,
                     strerror(-ret));
            free(p);
            close(fd);
            return ret;
        }
        done += (size_t)n;
    }
    close(fd);
    *buf = p;
    *len = done;
    return 0;
}

int boot_image_probe(const uint8_t *buf, size_t len, uint64_t *pvh_entry,
                     char *err, size_t errlen)
{
    const struct boot_loader *l = loader_for(buf, len);

    if (!l) {
        snprintf(err, errlen, "not a Linux bzImage nor an ELF kernel");
        return -EINVAL;
    }
    return l->probe(buf, len, pvh_entry, err, errlen) < 0 ? -EINVAL
                                                           : (int)l->format;
}

int boot_image_open(struct boot_image *img, const char *kernel_path,
                    const char *initrd_path, const char *cmdline, char *err,
                    size_t errlen)
{
    char why[192];
    int r;

    memset(img, 0, sizeof(*img));
    img->cmdline = cmdline ? cmdline : "";
    if (strlen(img->cmdline) >= X86_CMDLINE_MAX_LEN) {
        snprintf(err, errlen, "--cmdline is %zu bytes; the limit is %u",
                 strlen(img->cmdline), X86_CMDLINE_MAX_LEN - 1);
        return -EINVAL;
    }
    r = read_file(kernel_path, "kernel", &img->kernel, &img->kernel_len,
                  err, errlen);
    if (r < 0)
        return r;
    r = boot_image_probe(img->kernel, img->kernel_len, &img->pvh_entry, why,
                         sizeof(why));
    if (r < 0) {
        snprintf(err, errlen, "kernel '%s': %s", kernel_path, why);
        goto fail;
    }
    img->format = (enum kernel_format)r;
    if (initrd_path) {
        r = read_file(initrd_path, "initrd", &img->initrd, &img->initrd_len,
                      err, errlen);
        if (r < 0)
            goto fail;
    }
    return 0;
fail:
    boot_image_close(img);
    return r;
}

void boot_image_close(struct boot_image *img)
{
    free(img->kernel);
    free(img->initrd);
    img->kernel = img->initrd = NULL;
}

int boot_image_load(const struct boot_image *img, struct guest_memory *mem,
                    const struct e820_map *map, uint64_t rsdp_gpa,
                    struct boot_entry *entry, char *err, size_t errlen)
{
    const struct boot_loader *l;

    memset(entry, 0, sizeof(*entry));
    if (guest_memory_write(mem, X86_CMDLINE_GPA, img->cmdline,
                           strlen(img->cmdline) + 1) < 0) {
        snprintf(err, errlen, "guest RAM too small for the command line");
        return -ENOSPC;
    }
    l = loader_of(img->format);
    if (!l) {
        snprintf(err, errlen, "unknown kernel format %d", (int)img->format);
        return -EINVAL;
    }
    return l->load(img, mem, map, rsdp_gpa, entry, err, errlen);
}
