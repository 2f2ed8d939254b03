/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest RAM as one memfd split around the PCI hole (see memory.h). */
#include "vmm/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGE_2MB /* <linux/memfd.h>, which clashes with <sys/mman.h> */
#define MFD_HUGE_2MB (21U << 26)
#endif

static void add_region(struct guest_memory *mem, uint64_t gpa, uint64_t size,
                       uint64_t fd_offset)
{
    struct guest_region *r = &mem->regions[mem->nregions++];

    r->gpa = gpa;
    r->size = size;
    r->hva = mem->base + fd_offset;
    r->fd = mem->fd;
    r->fd_offset = fd_offset;
}

/* The memfd, sized and sealed. 0 or -errno. */
static int open_ram(uint64_t ram_size, bool huge, int *fd)
{
    unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;

    if (huge)
        flags |= MFD_HUGETLB | MFD_HUGE_2MB;
    *fd = memfd_create("minivmm-ram", flags);
    if (*fd < 0)
        return -errno;
    if (ftruncate(*fd, (off_t)ram_size) < 0)
        return -errno;
    /* The size is fixed for the VM's life: servers mapping it may rely on
     * that (vfio-user DMA_MAP of fd ranges). */
    if (fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
        return -errno;
    return 0;
}

/* Both regions start on a 2 MiB boundary in GPA and in the memfd
 * (GUEST_MEM_LOW_LIMIT and GUEST_MEM_HIGH_START are multiples of 2 MiB),
 * so with a RAM size that is a multiple of 2 MiB every DMA window is
 * 2 MiB-aligned in GPA, fd offset and length. */
_Static_assert(GUEST_MEM_LOW_LIMIT % GUEST_MEM_HUGE_PAGE == 0 &&
               GUEST_MEM_HIGH_START % GUEST_MEM_HUGE_PAGE == 0,
               "RAM regions must start 2 MiB-aligned");

static int create(uint64_t ram_size, bool huge, struct guest_memory *mem)
{
    uint64_t low;
    int r;

    memset(mem, 0, sizeof(*mem));
    mem->fd = -1;
    if (ram_size == 0 || ram_size % 4096 ||
        (huge && ram_size % GUEST_MEM_HUGE_PAGE))
        return -EINVAL;
    r = open_ram(ram_size, huge, &mem->fd);
    /* hugetlb pages are reserved at mmap (no MAP_NORESERVE): too few
     * fail here with ENOMEM rather than SIGBUS at first touch. */
    if (r == 0)
        mem->base = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                         MAP_SHARED | (huge ? 0 : MAP_NORESERVE), mem->fd,
                         0);
    if (r == 0 && mem->base == MAP_FAILED) {
        mem->base = NULL;
        r = -errno;
    }
    if (r < 0) {
        guest_memory_destroy(mem);
        return r;
    }
    mem->ram_size = ram_size;
    mem->hugepages = huge;
    low = ram_size < GUEST_MEM_LOW_LIMIT ? ram_size : GUEST_MEM_LOW_LIMIT;
    add_region(mem, 0, low, 0);
    if (ram_size > low)
        add_region(mem, GUEST_MEM_HIGH_START, ram_size - low, low);
    return 0;
}

int guest_memory_create(uint64_t ram_size, struct guest_memory *mem)
{
    return create(ram_size, false, mem);
}

/* A decimal number from a one-line file, or -1. */
static long read_count(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0 || buf[0] < '0' || buf[0] > '9')
        return -1;
    return strtol(buf, NULL, 10);
}

int guest_memory_huge_check(uint64_t ram_size, long free_pages,
                            long nr_pages, char *err, size_t errlen)
{
    uint64_t need = ram_size / GUEST_MEM_HUGE_PAGE;

    if (ram_size == 0 || ram_size % GUEST_MEM_HUGE_PAGE) {
        snprintf(err, errlen, "hugepages=on: the RAM size (%llu KiB) must "
                 "be a non-zero multiple of 2 MiB",
                 (unsigned long long)(ram_size >> 10));
        return -EINVAL;
    }
    if (free_pages < 0) {
        snprintf(err, errlen, "hugepages=on: the host has no 2 MiB huge "
                 "pages (%s unreadable); the guest needs %llu",
                 GUEST_MEM_HUGE_FREE, (unsigned long long)need);
        return -ENOMEM;
    }
    if ((uint64_t)free_pages >= need)
        return 0;
    snprintf(err, errlen, "hugepages=on: the guest needs %llu free 2 MiB "
             "huge pages, the host has %ld free (%s); reserve more with "
             "'echo %llu > %s' (as root)", (unsigned long long)need,
             free_pages, GUEST_MEM_HUGE_FREE,
             (unsigned long long)((nr_pages > 0 ? (uint64_t)nr_pages : 0) +
                                  need - (uint64_t)free_pages),
             GUEST_MEM_HUGE_NR);
    return -ENOMEM;
}

int guest_memory_create_opts(uint64_t ram_size,
                             const struct guest_memory_opts *o,
                             struct guest_memory *mem, char *err,
                             size_t errlen)
{
    bool huge = o && o->hugepages;
    int r;

    if (huge) {
        r = guest_memory_huge_check(ram_size, read_count(GUEST_MEM_HUGE_FREE),
                                    read_count(GUEST_MEM_HUGE_NR), err,
                                    errlen);
        if (r < 0) {
            memset(mem, 0, sizeof(*mem));
            mem->fd = -1;
            return r;
        }
    }
    r = create(ram_size, huge, mem);
    if (r < 0)
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM%s: %s",
                 (unsigned long long)(ram_size >> 20),
                 huge ? " from 2 MiB huge pages" : "", strerror(-r));
    return r;
}

bool guest_region_huge_aligned(const struct guest_region *r)
{
    return (r->gpa | r->fd_offset | r->size) % GUEST_MEM_HUGE_PAGE == 0;
}

void guest_memory_destroy(struct guest_memory *mem)
{
    if (mem->base)
        munmap(mem->base, mem->ram_size);
    if (mem->fd >= 0)
        close(mem->fd);
    memset(mem, 0, sizeof(*mem));
    mem->fd = -1;
}

void *guest_memory_hva(const struct guest_memory *mem, uint64_t gpa,
                       uint64_t len)
{
    for (unsigned int i = 0; i < mem->nregions; i++) {
        const struct guest_region *r = &mem->regions[i];
        uint64_t off = gpa - r->gpa;

        if (gpa < r->gpa || off >= r->size)
            continue;
        if (len > r->size - off)
            return NULL;
        return r->hva + off;
    }
    return NULL;
}

int guest_memory_read(const struct guest_memory *mem, uint64_t gpa,
                      void *buf, uint64_t len)
{
    void *p = guest_memory_hva(mem, gpa, len);

    if (!p)
        return -EFAULT;
    memcpy(buf, p, len);
    return 0;
}

int guest_memory_write(const struct guest_memory *mem, uint64_t gpa,
                       const void *buf, uint64_t len)
{
    void *p = guest_memory_hva(mem, gpa, len);

    if (!p)
        return -EFAULT;
    memcpy(p, buf, len);
    return 0;
}

uint64_t guest_memory_low_size(const struct guest_memory *mem)
{
    return mem->nregions ? mem->regions[0].size : 0;
}

void guest_memory_mark_dirty(const struct guest_memory *mem, uint64_t gpa,
                             uint64_t len)
{
    uint64_t *bits = __atomic_load_n(&mem->dirty, __ATOMIC_ACQUIRE);

    if (!bits || !len)
        return;
    for (unsigned int i = 0; i < mem->nregions; i++) {
        const struct guest_region *r = &mem->regions[i];
        uint64_t s, e, first, last;

        if (gpa >= r->gpa + r->size || gpa + len <= r->gpa)
            continue;
        s = gpa > r->gpa ? gpa : r->gpa;
        e = gpa + len < r->gpa + r->size ? gpa + len : r->gpa + r->size;
        first = (r->fd_offset + s - r->gpa) >> 12;
        last = (r->fd_offset + e - 1 - r->gpa) >> 12;
        for (uint64_t p = first; p <= last; p++)
            __atomic_fetch_or(&bits[p / 64], 1ULL << (p % 64),
                              __ATOMIC_RELAXED);
    }
}
