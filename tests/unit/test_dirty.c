/* SPDX-License-Identifier: BSD-3-Clause */
/* Dirty-page bookkeeping (vmm/dirty.c) and VMM-side dirty marking
 * (vmm/memory.c guest_memory_mark_dirty, virtio/guest_mem.c adapter). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/guest_mem.h"
#include "vmm/dirty.h"
#include "vmm/memory.h"

static bool bit(const uint64_t *b, uint64_t i)
{
    return b[i / 64] >> (i % 64) & 1;
}

static void test_or_at(void **state)
{
    uint64_t dst[4] = { 0 }, src[2] = { 0x8000000000000001ULL, 0x3 };

    (void)state;
    /* Aligned: 66 pages, the bits past npages in the last word ignored. */
    assert_int_equal(dirty_bits_or_at(dst, 64, src, 65), 3);
    assert_true(bit(dst, 64) && bit(dst, 127) && bit(dst, 128));
    assert_false(bit(dst, 129));
    /* Unaligned. */
    memset(dst, 0, sizeof(dst));
    assert_int_equal(dirty_bits_or_at(dst, 3, src, 66), 4);
    assert_true(bit(dst, 3) && bit(dst, 66) && bit(dst, 67) && bit(dst, 68));
    assert_int_equal(dirty_bits_count(dst, 256), 4);
    assert_int_equal(dirty_bits_count(dst, 67), 2);
}

static void test_extract_runs(void **state)
{
    uint64_t bits[4] = { 0 }, out[2], i = 0, n;

    (void)state;
    dirty_bits_set_range(bits, 60, 10);     /* 60..69 */
    dirty_bits_set_range(bits, 130, 1);
    assert_int_equal(dirty_bits_extract(bits, 62, 70, out), 9);
    assert_true(bit(out, 0) && bit(out, 7) && !bit(out, 8) && bit(out, 68));
    assert_int_equal(dirty_bits_extract(bits, 0, 60, out), 0);
    assert_true(dirty_bits_next_run(bits, 256, &i, &n));
    assert_int_equal(i, 60);
    assert_int_equal(n, 10);
    i += n;
    assert_true(dirty_bits_next_run(bits, 256, &i, &n));
    assert_int_equal(i, 130);
    assert_int_equal(n, 1);
    i += n;
    assert_false(dirty_bits_next_run(bits, 256, &i, &n));
    /* A run cut by npages. */
    i = 0;
    assert_true(dirty_bits_next_run(bits, 65, &i, &n));
    assert_int_equal(n, 5);
}

static void test_harvest(void **state)
{
    uint64_t src[3] = { 0x5, 0, 1ULL << 63 }, dst[3] = { 0x2, 0, 0 };

    (void)state;
    assert_int_equal(dirty_bits_harvest(src, dst, 3), 3);
    assert_int_equal(dst[0], 0x7);
    assert_int_equal(dst[2], 1ULL << 63);
    assert_int_equal(src[0] | src[1] | src[2], 0);
    assert_int_equal(dirty_bits_harvest(src, dst, 3), 0);
}

/* guest_memory_mark_dirty numbers pages by memfd offset across regions. */
static void test_mark_regions(void **state)
{
    struct guest_memory mem;
    uint64_t bits[8] = { 0 };

    (void)state;
    memset(&mem, 0, sizeof(mem));
    mem.ram_size = 512 * 4096;
    mem.nregions = 2;
    mem.regions[0] = (struct guest_region){ .gpa = 0, .size = 256 * 4096 };
    mem.regions[1] = (struct guest_region){ .gpa = 1ULL << 32,
                                            .size = 256 * 4096,
                                            .fd_offset = 256 * 4096 };
    guest_memory_mark_dirty(&mem, 0, 4096);     /* off: ignored */
    mem.dirty = bits;
    guest_memory_mark_dirty(&mem, 4095, 2);     /* pages 0 and 1 */
    guest_memory_mark_dirty(&mem, (1ULL << 32) + 4096, 1);   /* 257 */
    guest_memory_mark_dirty(&mem, 255 * 4096, 4096 * 4);     /* 255 only */
    guest_memory_mark_dirty(&mem, 1ULL << 40, 4096);         /* outside */
    assert_true(bit(bits, 0) && bit(bits, 1) && bit(bits, 257) &&
                bit(bits, 255));
    assert_int_equal(dirty_bits_count(bits, 512), 4);
}

struct marker {
    struct guest_memory *mem;
    uint64_t base;
};

static void *mark_many(void *arg)
{
    struct marker *m = arg;

    for (uint64_t p = 0; p < 64 * 64; p += 2)
        guest_memory_mark_dirty(m->mem, (m->base + p) * 4096, 1);
    return NULL;
}

/* Concurrent markers lose no bit (atomic ORs), harvest takes them all. */
static void test_mark_concurrent(void **state)
{
    static uint64_t bits[128], out[128];
    struct guest_memory mem;
    struct marker a, b;
    pthread_t ta, tb;

    (void)state;
    memset(&mem, 0, sizeof(mem));
    mem.nregions = 1;
    mem.regions[0] = (struct guest_region){ .size = 8192ULL * 4096 };
    mem.dirty = bits;
    a = (struct marker){ &mem, 0 };
    b = (struct marker){ &mem, 1 };
    pthread_create(&ta, NULL, mark_many, &a);
    pthread_create(&tb, NULL, mark_many, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(dirty_bits_harvest(bits, out, 128), 64 * 64);
}

/* The virtio adapter marks device writes: translate(write) and
 * mark_dirty; reads mark nothing. */
static void test_virtio_adapter(void **state)
{
    static uint8_t ram[16 * 4096];
    uint64_t bits[1] = { 0 };
    struct guest_memory mem;
    struct virtio_mem vm;
    uint8_t buf[8] = { 1 };

    (void)state;
    memset(&mem, 0, sizeof(mem));
    mem.nregions = 1;
    mem.regions[0] = (struct guest_region){ .size = sizeof(ram),
                                            .hva = ram };
    virtio_mem_from_guest_memory(&mem, &vm);
    mem.dirty = bits;
    assert_non_null(virtio_mem_translate(&vm, 2 * 4096, 8, false));
    assert_int_equal(bits[0], 0);
    assert_int_equal(virtio_mem_read(&vm, 4096, buf, 8), 0);
    assert_int_equal(bits[0], 0);
    assert_int_equal(virtio_mem_write(&vm, 3 * 4096 + 4090, buf, 8), 0);
    assert_int_equal(bits[0], 0x18);
    virtio_mem_mark_dirty(&vm, 9 * 4096, 1);
    assert_int_equal(bits[0], 0x218);
}

/* Ops recording whether a mark_dirty saw the final bytes in place. */
struct order_mem {
    uint8_t ram[4096];
    uint8_t want;
    int marks, marks_after;
};

static void *om_translate(void *opaque, uint64_t gpa, uint64_t len,
                          bool write)
{
    struct order_mem *om = opaque;

    if (gpa + len > sizeof(om->ram))
        return NULL;
    if (write) {
        om->marks++;
        om->marks_after += om->ram[gpa] == om->want;
    }
    return om->ram + gpa;
}

static void om_mark(void *opaque, uint64_t gpa, uint64_t len)
{
    (void)len;
    om_translate(opaque, gpa, 1, true);
}

/* A write through a translated pointer is marked dirty once the bytes
 * are in place (a harvest between an early mark and the copy would send
 * the old page and lose the write). */
static void test_write_marks_after_copy(void **state)
{
    static const struct virtio_mem_ops ops = {
        .translate = om_translate, .mark_dirty = om_mark,
    };
    static struct order_mem om;
    struct virtio_mem vm = { &ops, &om };
    uint8_t buf[4];

    (void)state;
    om.want = 0x77;
    memset(buf, 0x77, sizeof(buf));
    assert_int_equal(virtio_mem_write(&vm, 100, buf, sizeof(buf)), 0);
    assert_int_equal(om.ram[100], 0x77);
    assert_true(om.marks_after >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_or_at),
        cmocka_unit_test(test_extract_runs),
        cmocka_unit_test(test_harvest),
        cmocka_unit_test(test_mark_regions),
        cmocka_unit_test(test_mark_concurrent),
        cmocka_unit_test(test_virtio_adapter),
        cmocka_unit_test(test_write_marks_after_copy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
