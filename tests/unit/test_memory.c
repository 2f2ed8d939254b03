/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/memory.c: the region split at 3 GiB, GPA→HVA bounds,
 * read/write faults, invalid sizes, sealing and fd offsets. Large guests
 * (5 GiB) are cheap: the memfd is sparse and mapped MAP_NORESERVE; the tests
 * check that creating one allocates no pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/memory.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static uint64_t allocated_bytes(int fd)
{
    struct stat st;

    assert_int_equal(fstat(fd, &st), 0);
    return (uint64_t)st.st_blocks * 512;
}

static void test_small(void **state)
{
    struct guest_memory mem;

    (void)state;
    assert_int_equal(guest_memory_create(64 * MiB, &mem), 0);
    assert_true(mem.fd >= 0);
    assert_true(fcntl(mem.fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(mem.ram_size, 64 * MiB);
    assert_int_equal(mem.nregions, 1);
    assert_int_equal(mem.regions[0].gpa, 0);
    assert_int_equal(mem.regions[0].size, 64 * MiB);
    assert_ptr_equal(mem.regions[0].hva, mem.base);
    assert_int_equal(mem.regions[0].fd, mem.fd);
    assert_int_equal(mem.regions[0].fd_offset, 0);
    assert_int_equal(guest_memory_low_size(&mem), 64 * MiB);
    assert_int_equal(allocated_bytes(mem.fd), 0);
    guest_memory_destroy(&mem);
    assert_int_equal(mem.fd, -1);
    assert_null(mem.base);
    assert_int_equal(guest_memory_low_size(&mem), 0);
    guest_memory_destroy(&mem); /* twice is harmless */

    assert_int_equal(guest_memory_create(4 * KiB, &mem), 0); /* one page */
    assert_non_null(guest_memory_hva(&mem, 0, 4 * KiB));
    assert_null(guest_memory_hva(&mem, 0, 4 * KiB + 1));
    guest_memory_destroy(&mem);
}

static void test_split_boundaries(void **state)
{
    struct guest_memory mem;

    (void)state;
    /* Exactly 3 GiB still fits below the hole. */
    assert_int_equal(guest_memory_create(3 * GiB, &mem), 0);
    assert_int_equal(mem.nregions, 1);
    assert_int_equal(mem.regions[0].size, GUEST_MEM_LOW_LIMIT);
    guest_memory_destroy(&mem);

    /* One page more: that page goes to 4 GiB. */
    assert_int_equal(guest_memory_create(3 * GiB + 4 * KiB, &mem), 0);
    assert_int_equal(mem.nregions, 2);
    assert_int_equal(mem.regions[1].gpa, GUEST_MEM_HIGH_START);
    assert_int_equal(mem.regions[1].size, 4 * KiB);
    assert_int_equal(mem.regions[1].fd_offset, 3 * GiB);
    assert_int_equal(guest_memory_low_size(&mem), 3 * GiB);
    assert_non_null(guest_memory_hva(&mem, 4 * GiB, 4 * KiB));
    assert_null(guest_memory_hva(&mem, 4 * GiB, 4 * KiB + 1));
    assert_null(guest_memory_hva(&mem, 3 * GiB, 1));
    guest_memory_destroy(&mem);
}

static void test_large_sparse(void **state)
{
    struct guest_memory mem;
    const struct guest_region *lo = &mem.regions[0], *hi = &mem.regions[1];

    (void)state;
    assert_int_equal(guest_memory_create(5 * GiB, &mem), 0);
    assert_int_equal(allocated_bytes(mem.fd), 0); /* nothing touched */
    assert_int_equal(mem.ram_size, 5 * GiB);
    assert_int_equal(mem.nregions, 2);
    assert_int_equal(lo->gpa, 0);
    assert_int_equal(lo->size, 3 * GiB);
    assert_int_equal(hi->gpa, 4 * GiB);
    assert_int_equal(hi->size, 2 * GiB);
    assert_int_equal(lo->fd_offset + lo->size, hi->fd_offset);
    assert_int_equal(hi->fd_offset + hi->size, mem.ram_size);
    for (unsigned int i = 0; i < mem.nregions; i++) {
        assert_int_equal(mem.regions[i].fd, mem.fd);
        assert_ptr_equal(mem.regions[i].hva,
                         mem.base + mem.regions[i].fd_offset);
        assert_int_equal(mem.regions[i].size % (4 * KiB), 0);
    }
    assert_int_equal(guest_memory_low_size(&mem), 3 * GiB);
    /* Lookups do not touch memory either. */
    assert_non_null(guest_memory_hva(&mem, 6 * GiB - 1, 1));
    assert_int_equal(allocated_bytes(mem.fd), 0);
    guest_memory_destroy(&mem);

    /* 1 TiB of address space costs nothing until used. */
    assert_int_equal(guest_memory_create(1ULL << 40, &mem), 0);
    assert_int_equal(mem.regions[1].size, (1ULL << 40) - 3 * GiB);
    assert_int_equal(allocated_bytes(mem.fd), 0);
    guest_memory_destroy(&mem);
}

static void test_hva_bounds(void **state)
{
    struct guest_memory mem;
    uint8_t *b;

    (void)state;
    assert_int_equal(guest_memory_create(5 * GiB, &mem), 0);
    b = mem.base;
    /* Start, end, whole region. */
    assert_ptr_equal(guest_memory_hva(&mem, 0, 1), b);
    assert_ptr_equal(guest_memory_hva(&mem, 0, 3 * GiB), b);
    assert_ptr_equal(guest_memory_hva(&mem, 3 * GiB - 1, 1), b + 3 * GiB - 1);
    assert_ptr_equal(guest_memory_hva(&mem, 4 * GiB, 2 * GiB), b + 3 * GiB);
    assert_ptr_equal(guest_memory_hva(&mem, 6 * GiB - 8, 8), b + 5 * GiB - 8);
    /* Crossing a region end. */
    assert_null(guest_memory_hva(&mem, 0, 3 * GiB + 1));
    assert_null(guest_memory_hva(&mem, 3 * GiB - 1, 2));
    assert_null(guest_memory_hva(&mem, 6 * GiB - 8, 9));
    assert_null(guest_memory_hva(&mem, 4 * GiB, 2 * GiB + 1));
    /* The hole and beyond RAM. */
    assert_null(guest_memory_hva(&mem, 3 * GiB, 1));
    assert_null(guest_memory_hva(&mem, 3 * GiB + 0x1000, 8));
    assert_null(guest_memory_hva(&mem, 4 * GiB - 1, 1));
    assert_null(guest_memory_hva(&mem, 4 * GiB - 1, 2)); /* into high RAM */
    assert_null(guest_memory_hva(&mem, 6 * GiB, 1));
    assert_null(guest_memory_hva(&mem, UINT64_MAX, 1));
    /* Lengths that would wrap. */
    assert_null(guest_memory_hva(&mem, 0x1000, UINT64_MAX));
    assert_null(guest_memory_hva(&mem, 4 * GiB + 1, UINT64_MAX - 4 * GiB));
    assert_null(guest_memory_hva(&mem, 0, UINT64_MAX));
    /* Length 0: only the address must be inside RAM. */
    assert_ptr_equal(guest_memory_hva(&mem, 0, 0), b);
    assert_ptr_equal(guest_memory_hva(&mem, 3 * GiB - 1, 0), b + 3 * GiB - 1);
    assert_ptr_equal(guest_memory_hva(&mem, 4 * GiB, 0), b + 3 * GiB);
    assert_null(guest_memory_hva(&mem, 3 * GiB, 0));
    assert_null(guest_memory_hva(&mem, 6 * GiB, 0));
    assert_null(guest_memory_hva(&mem, UINT64_MAX, 0));
    guest_memory_destroy(&mem);
}

static void test_read_write(void **state)
{
    struct guest_memory mem;
    uint8_t buf[16], out[16];

    (void)state;
    assert_int_equal(guest_memory_create(3 * GiB + 64 * KiB, &mem), 0);
    for (int i = 0; i < 16; i++)
        buf[i] = (uint8_t)(0xa0 + i);

    assert_int_equal(guest_memory_write(&mem, 0x1000, buf, 16), 0);
    assert_int_equal(guest_memory_read(&mem, 0x1000, out, 16), 0);
    assert_memory_equal(buf, out, 16);
    assert_int_equal(guest_memory_write(&mem, 4 * GiB + 8, buf, 16), 0);
    assert_memory_equal(mem.base + 3 * GiB + 8, buf, 16);
    assert_int_equal(guest_memory_read(&mem, 0, out, 0), 0);

    /* Faults copy nothing: the in-RAM part stays as it was. */
    memset(out, 0x11, sizeof(out));
    assert_int_equal(guest_memory_read(&mem, 3 * GiB - 8, out, 16), -EFAULT);
    for (int i = 0; i < 16; i++)
        assert_int_equal(out[i], 0x11);
    assert_int_equal(guest_memory_write(&mem, 3 * GiB - 8, buf, 16),
                     -EFAULT);
    for (int i = 0; i < 8; i++)
        assert_int_equal(mem.base[3 * GiB - 8 + i], 0);
    assert_int_equal(guest_memory_read(&mem, 3 * GiB, out, 1), -EFAULT);
    assert_int_equal(guest_memory_write(&mem, 3 * GiB + 4096, buf, 1),
                     -EFAULT);
    assert_int_equal(guest_memory_read(&mem, 4 * GiB + 64 * KiB - 8, out, 9),
                     -EFAULT);
    assert_int_equal(guest_memory_write(&mem, UINT64_MAX - 3, buf, 8),
                     -EFAULT);
    assert_int_equal(guest_memory_read(&mem, 8, out, UINT64_MAX), -EFAULT);
    guest_memory_destroy(&mem);
}

static void test_invalid_sizes(void **state)
{
    static const uint64_t bad[] = { 0, 1, 4095, 4097, 64 * MiB + 512 };
    struct guest_memory mem;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&mem, 0x5a, sizeof(mem));
        assert_int_equal(guest_memory_create(bad[i], &mem), -EINVAL);
        assert_int_equal(mem.fd, -1);
        assert_null(mem.base);
        assert_int_equal(mem.nregions, 0);
        guest_memory_destroy(&mem);
    }
    /* Sizes the host cannot provide fail cleanly (no fd, no mapping). */
    assert_true(guest_memory_create(UINT64_MAX & ~0xfffULL, &mem) < 0);
    assert_int_equal(mem.fd, -1);
    assert_null(mem.base);
    assert_true(guest_memory_create(1ULL << 62, &mem) < 0);
    assert_int_equal(mem.fd, -1);
    assert_null(mem.base);
}

static void test_sealed(void **state)
{
    struct guest_memory mem;
    int seals;

    (void)state;
    assert_int_equal(guest_memory_create(16 * MiB, &mem), 0);
    seals = fcntl(mem.fd, F_GET_SEALS);
    assert_true(seals >= 0);
    assert_true(seals & F_SEAL_GROW);
    assert_true(seals & F_SEAL_SHRINK);
    assert_false(seals & F_SEAL_WRITE);
    assert_int_equal(ftruncate(mem.fd, 32 * MiB), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(mem.fd, 8 * MiB), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(mem.fd, 16 * MiB), 0); /* same size: fine */
    assert_int_equal(lseek(mem.fd, 0, SEEK_END), 16 * MiB);
    guest_memory_destroy(&mem);
}

/* What a vfio-user server sees: mapping (fd, fd_offset) shows guest RAM. */
static void test_fd_offsets(void **state)
{
    struct guest_memory mem;
    uint64_t v = 0x1122334455667788ULL, got = 0;
    uint8_t *m;

    (void)state;
    assert_int_equal(guest_memory_create(5 * GiB, &mem), 0);
    assert_int_equal(guest_memory_write(&mem, 4 * GiB + 0x2008, &v, 8), 0);
    assert_int_equal(pread(mem.fd, &got, 8,
                           (off_t)(mem.regions[1].fd_offset + 0x2008)),
                     8);
    assert_int_equal(got, v);

    v = ~v;
    assert_int_equal(pwrite(mem.fd, &v, 8, 0x3000), 8);
    assert_int_equal(guest_memory_read(&mem, 0x3000, &got, 8), 0);
    assert_int_equal(got, v);

    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mem.regions[1].fd,
             (off_t)mem.regions[1].fd_offset + 0x2000);
    assert_true(m != MAP_FAILED);
    assert_memory_equal(m + 8, mem.regions[1].hva + 0x2008, 8);
    munmap(m, 4096);
    /* Only the touched pages are allocated. */
    assert_true(allocated_bytes(mem.fd) <= 64 * KiB);
    guest_memory_destroy(&mem);
}

/* Every DMA window (= RAM region) is 2 MiB-aligned in GPA, memfd offset
 * and length whenever the RAM size is a multiple of 2 MiB, on both sides
 * of the PCI hole (SPDK's NVMe target skips unaligned windows). */
static void test_huge_aligned_layout(void **state)
{
    static const uint64_t sizes[] = {
        2 * MiB, 256 * MiB, 3 * GiB - 2 * MiB, 3 * GiB, 3 * GiB + 2 * MiB,
        5 * GiB, 64 * GiB + 6 * MiB,
    };
    struct guest_memory mem;

    (void)state;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        assert_int_equal(guest_memory_create(sizes[k], &mem), 0);
        for (unsigned int i = 0; i < mem.nregions; i++)
            assert_true(guest_region_huge_aligned(&mem.regions[i]));
        guest_memory_destroy(&mem);
    }
    /* A 4 KiB-granular size leaves only the last window unaligned. */
    assert_int_equal(guest_memory_create(3 * GiB + 8 * KiB, &mem), 0);
    assert_true(guest_region_huge_aligned(&mem.regions[0]));
    assert_false(guest_region_huge_aligned(&mem.regions[1]));
    guest_memory_destroy(&mem);
}

/* hugepages=on: needed vs free pages, and how to fix it, in one line. */
static void test_huge_check(void **state)
{
    char err[512];

    (void)state;
    assert_int_equal(guest_memory_huge_check(256 * MiB, 128, 128, err,
                                             sizeof(err)), 0);
    assert_int_equal(guest_memory_huge_check(256 * MiB, 500, 600, err,
                                             sizeof(err)), 0);
    assert_int_equal(guest_memory_huge_check(256 * MiB, 100, 120, err,
                                             sizeof(err)), -ENOMEM);
    assert_non_null(strstr(err, "needs 128 free 2 MiB huge pages"));
    assert_non_null(strstr(err, "has 100 free"));
    assert_non_null(strstr(err, "echo 148 > /proc/sys/vm/nr_hugepages"));
    assert_non_null(strstr(err, GUEST_MEM_HUGE_FREE));
    assert_int_equal(guest_memory_huge_check(4 * MiB, 0, 0, err,
                                             sizeof(err)), -ENOMEM);
    assert_non_null(strstr(err, "echo 2 > /proc/sys/vm/nr_hugepages"));
    assert_int_equal(guest_memory_huge_check(4 * MiB, -1, -1, err,
                                             sizeof(err)), -ENOMEM);
    assert_non_null(strstr(err, "unreadable"));
    assert_int_equal(guest_memory_huge_check(3 * MiB, 10, 10, err,
                                             sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "multiple of 2 MiB"));
}

/* With too few huge pages: -ENOMEM and the sentence, nothing left open;
 * with enough (only if the host has them), a hugetlb-backed memfd. */
static void test_huge_create(void **state)
{
    struct guest_memory mem;
    struct guest_memory_opts o = { .hugepages = true };
    char err[512] = "";
    int r;

    (void)state;
    r = guest_memory_create_opts(1ULL << 40, &o, &mem, err, sizeof(err));
    assert_int_equal(r, -ENOMEM);
    assert_non_null(strstr(err, "needs 524288 free 2 MiB huge pages"));
    assert_int_equal(mem.fd, -1);
    r = guest_memory_create_opts(4 * MiB, &o, &mem, err, sizeof(err));
    if (r == -ENOMEM) {
        assert_true(strstr(err, "huge pages") != NULL);
        return;     /* the host has no 2 free huge pages */
    }
    assert_int_equal(r, 0);
    assert_true(mem.hugepages);
    assert_true(guest_region_huge_aligned(&mem.regions[0]));
    assert_int_equal((uintptr_t)mem.base % (2 * MiB), 0);
    mem.base[0] = 1;
    guest_memory_destroy(&mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),
        cmocka_unit_test(test_split_boundaries),
        cmocka_unit_test(test_large_sparse),
        cmocka_unit_test(test_hva_bounds),
        cmocka_unit_test(test_read_write),
        cmocka_unit_test(test_invalid_sizes),
        cmocka_unit_test(test_sealed),
        cmocka_unit_test(test_fd_offsets),
        cmocka_unit_test(test_huge_aligned_layout),
        cmocka_unit_test(test_huge_check),
        cmocka_unit_test(test_huge_create),
    };

    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
