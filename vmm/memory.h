/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest RAM: one memfd, mapped MAP_SHARED, split into regions around the
 * 32-bit PCI hole (docs/platform.md). Each region is one KVM memslot. Later
 * users: vfio-user DMA maps (fd + offset), dirty logging, snapshots.
 */
#ifndef MINIVMM_MEMORY_H
#define MINIVMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_LOW_LIMIT  0xC0000000ULL  /* start of the 32-bit PCI hole */
#define GUEST_MEM_HIGH_START 0x100000000ULL /* RAM resumes at 4 GiB */
#define GUEST_MEM_MAX_REGIONS 8
#define GUEST_MEM_HUGE_PAGE  0x200000ULL    /* 2 MiB */
#define GUEST_MEM_HUGE_FREE \
    "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define GUEST_MEM_HUGE_NR "/proc/sys/vm/nr_hugepages"

struct guest_region {
    uint64_t gpa;       /* guest-physical start, bytes */
    uint64_t size;      /* bytes, multiple of 4 KiB */
    uint8_t *hva;       /* host virtual address of gpa */
    int fd;             /* memfd backing the region (shared by regions) */
    uint64_t fd_offset; /* offset of gpa's page in fd, bytes */
};

struct guest_memory {
    int fd;                 /* the memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING,
                             * + MFD_HUGETLB | MFD_HUGE_2MB if hugepages) */
    bool hugepages;         /* backed by 2 MiB hugetlb pages */
    uint64_t ram_size;      /* total RAM, bytes */
    uint8_t *base;          /* mapping of the whole memfd */
    unsigned int nregions;
    struct guest_region regions[GUEST_MEM_MAX_REGIONS];
    /* While migrating: pages written by the VMM itself (virtio devices),
     * which KVM's dirty log does not see. One bit per 4 KiB page of the
     * memfd (bit fd_offset / 4096), set atomically by
     * guest_memory_mark_dirty(); NULL when not logging (vmm/dirty.h). */
    uint64_t *dirty;
};

/* Create @ram_size bytes of guest RAM (multiple of 4 KiB, > 0): a memfd,
 * mapped once, split at GUEST_MEM_LOW_LIMIT. 0 or -errno (-EINVAL for a
 * bad size). Release with guest_memory_destroy(). */
int guest_memory_create(uint64_t ram_size, struct guest_memory *mem);
void guest_memory_destroy(struct guest_memory *mem);

/* How guest RAM is backed (--memory SIZE[,hugepages=on]). */
struct guest_memory_opts {
    bool hugepages;     /* MFD_HUGETLB | MFD_HUGE_2MB memfd */
};

/* guest_memory_create() with @o (NULL: defaults). With hugepages the size
 * must be a multiple of 2 MiB and the host must have ram_size / 2 MiB
 * free 2 MiB huge pages (GUEST_MEM_HUGE_FREE), else -ENOMEM with a
 * sentence saying how many are needed, how many are free and how to
 * reserve more. 0 or -errno, with a sentence in @err on error. */
int guest_memory_create_opts(uint64_t ram_size,
                             const struct guest_memory_opts *o,
                             struct guest_memory *mem, char *err,
                             size_t errlen);

/* Pure check for hugepages=on: @ram_size needs ram_size / 2 MiB pages;
 * @free_pages and @nr_pages are the host's free and reserved 2 MiB pages
 * (-1: unknown). 0, -EINVAL (size not a multiple of 2 MiB) or -ENOMEM
 * (too few free), with the sentence (needed vs free, the fix: `echo N >
 * /proc/sys/vm/nr_hugepages`) in @err. */
int guest_memory_huge_check(uint64_t ram_size, long free_pages,
                            long nr_pages, char *err, size_t errlen);

/* True if @r can be a 2 MiB-aligned DMA window: GPA, memfd offset and
 * size all multiples of 2 MiB (what SPDK's NVMe target needs, with a
 * hugetlb fd; docs/interop.md "SPDK's NVMe target"). */
bool guest_region_huge_aligned(const struct guest_region *r);

/* Host pointer for [@gpa, @gpa + @len) if the whole range lies inside one
 * RAM region, else NULL. @len may be 0 (then @gpa must be inside RAM). */
void *guest_memory_hva(const struct guest_memory *mem, uint64_t gpa,
                       uint64_t len);

/* Copy between guest RAM and a host buffer. 0, or -EFAULT if any byte of
 * the guest range is outside RAM (nothing is copied then). */
int guest_memory_read(const struct guest_memory *mem, uint64_t gpa,
                      void *buf, uint64_t len);
int guest_memory_write(const struct guest_memory *mem, uint64_t gpa,
                       const void *buf, uint64_t len);

/* Record a VMM-side write of [@gpa, @gpa + @len) in @mem->dirty if dirty
 * logging is on (any thread; parts outside RAM are ignored). */
void guest_memory_mark_dirty(const struct guest_memory *mem, uint64_t gpa,
                             uint64_t len);

/* RAM size below 4 GiB (bytes), i.e. the end of the first region. */
uint64_t guest_memory_low_size(const struct guest_memory *mem);

#endif
