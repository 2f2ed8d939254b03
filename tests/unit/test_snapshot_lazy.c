/* SPDX-License-Identifier: BSD-3-Clause */
/* On-demand restore (minivmm/persist/snapshot_lazy.c) without KVM: a
 * snapshot of scattered pages, loaded on demand into fresh RAM while a
 * reader thread touches pages all over it (the fault thread serves them);
 * then all of RAM equals the original. A flipped page byte is found by
 * the loader (-EBADMSG naming the section). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_lazy.h"
#include "vmm/memory.h"

#define RAM (80ULL << 20) /* 3 RAM sections of 32 MiB chunks */

struct fixture {
    struct guest_memory mem;
    int file;               /* memfd holding the snapshot */
    uint64_t len;
};

static void fill(struct guest_memory *m)
{
    for (uint64_t gpa = 0; gpa < RAM; gpa += 4096 * 37)
        memset(m->base + gpa + 8, (int)(gpa >> 12) | 1, 1000);
    memset(m->base + (40ULL << 20), 0xAB, 300 * 4096);
    m->base[RAM - 1] = 7;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct snap_write_stats st;
    char fdt[1024], err[256];

    assert_non_null(f);
    assert_int_equal(guest_memory_create(RAM, &f->mem), 0);
    fill(&f->mem);
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    assert_int_equal(fdt_pack(fdt), 0);
    f->file = memfd_create("snap", 0);
    assert_true(f->file >= 0);
    assert_int_equal(snap_write_fd(f->file, fdt, fdt_totalsize(fdt),
                                   &f->mem, &st, err, sizeof(err)), 0);
    f->len = st.bytes;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    guest_memory_destroy(&f->mem);
    close(f->file);
    free(f);
    return 0;
}

/* Touch every 13th page from the end down, summing (a guest's reads). */
static void *toucher(void *arg)
{
    const uint8_t *base = arg;
    uint64_t sum = 0;

    for (uint64_t off = RAM; off >= 4096 * 13; off -= 4096 * 13)
        sum += base[off - 4096 * 13 + 8];
    return (void *)(uintptr_t)(sum | 1);
}

/* A reader over a private copy of the file (the loader takes it over). */
static struct snap_reader *open_copy(struct fixture *f, long flip_at)
{
    struct snap_reader *r;
    char err[256];
    uint8_t *buf = malloc(f->len);
    int fd = memfd_create("copy", 0);

    assert_non_null(buf);
    assert_int_equal(pread(f->file, buf, f->len, 0), (ssize_t)f->len);
    if (flip_at >= 0)
        buf[flip_at] ^= 0x20;
    assert_int_equal(write(fd, buf, f->len), (ssize_t)f->len);
    free(buf);
    assert_int_equal(snap_reader_open_fd(fd, &r, err, sizeof(err)), 0);
    return r;
}

static void test_on_demand_round_trip(void **state)
{
    struct fixture *f = *state;
    struct guest_memory m;
    struct snap_lazy *l;
    struct snap_lazy_stats st;
    pthread_t t;
    void *ret;
    char err[256];

    assert_int_equal(guest_memory_create(RAM, &m), 0);
    assert_int_equal(snap_lazy_start(open_copy(f, -1), &m, 1, SC_OFF, &l, err,
                                     sizeof(err)), 0);
    assert_int_equal(pthread_create(&t, NULL, toucher, m.base), 0);
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_non_null(ret);
    assert_int_equal(snap_lazy_wait(l, err, sizeof(err)), 0);
    snap_lazy_stats(l, &st);
    assert_true(st.load_pages + st.fault_pages > 0);
    assert_true(st.load_ms > 0);
    /* Unregistered now: untouched zero pages read as zero, data as saved. */
    assert_memory_equal(m.base, f->mem.base, RAM);
    snap_lazy_destroy(l);
    guest_memory_destroy(&m);
}

static void test_on_demand_corrupt_page(void **state)
{
    struct fixture *f = *state;
    struct guest_memory m;
    struct snap_lazy *l;
    char err[256];

    assert_int_equal(guest_memory_create(RAM, &m), 0);
    /* The last byte of the file before END's header and payload (48):
     * a page byte of the last RAM section. */
    assert_int_equal(snap_lazy_start(open_copy(f, (long)f->len - 49), &m,
                                     2, SC_OFF, &l, err, sizeof(err)), 0);
    assert_int_equal(snap_lazy_wait(l, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "(ram): checksum mismatch"));
    snap_lazy_destroy(l);
    guest_memory_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_on_demand_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_on_demand_corrupt_page, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
