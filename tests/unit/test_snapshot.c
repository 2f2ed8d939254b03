/* SPDX-License-Identifier: BSD-3-Clause */
/* Snapshot encoding (vmm/snapshot_fmt.c) and file writer/reader
 * (vmm/snapshot_write.c, snapshot_read.c): round trip, truncation, a
 * flipped byte in every section, foreign and too-new files. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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

#include "vmm/memory.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_fmt.h"

#define RAM (80ULL << 20) /* 3 RAM sections of 32 MiB chunks */

struct fixture {
    struct guest_memory mem;
    char fdt[4096];
    uint8_t *file;
    size_t len;
};

static void fill(struct guest_memory *m)
{
    /* A few scattered pages, a run, and one page in the last chunk. */
    for (uint64_t gpa = 0; gpa < RAM; gpa += 4096 * 97)
        memset(m->base + gpa, (int)(gpa >> 12) | 1, 100);
    memset(m->base + (40ULL << 20), 0xAB, 64 * 4096);
    m->base[RAM - 1] = 7;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct snap_write_stats st;
    char err[256];
    int fd, node;

    assert_non_null(f);
    assert_int_equal(guest_memory_create(RAM, &f->mem), 0);
    fill(&f->mem);
    assert_int_equal(fdt_create_empty_tree(f->fdt, sizeof(f->fdt)), 0);
    node = fdt_add_subnode(f->fdt, 0, "config");
    assert_true(node >= 0);
    assert_int_equal(fdt_setprop_u32(f->fdt, node, "cpus", 2), 0);
    assert_int_equal(fdt_pack(f->fdt), 0);
    fd = memfd_create("snap", 0);
    assert_true(fd >= 0);
    assert_int_equal(snap_write_fd(fd, f->fdt, fdt_totalsize(f->fdt),
                                   &f->mem, &st, err, sizeof(err)), 0);
    f->len = (size_t)lseek(fd, 0, SEEK_END);
    assert_int_equal(f->len, st.bytes);
    assert_int_equal(st.sections, 2 + 3);
    assert_true(st.pages > 64 && st.pages < 2000);
    f->file = malloc(f->len);
    assert_non_null(f->file);
    assert_int_equal(pread(fd, f->file, f->len, 0), (ssize_t)f->len);
    close(fd);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    guest_memory_destroy(&f->mem);
    free(f->file);
    free(f);
    return 0;
}

/* A memfd holding @len bytes of @buf. */
static int memfd_of(const void *buf, size_t len)
{
    int fd = memfd_create("snap", 0);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    return fd;
}

/* Open + load through the file reader: 0, or -errno with @err. */
static int load_file(const void *buf, size_t len, struct guest_memory *out,
                     char *err, size_t errlen)
{
    struct snap_reader *r;
    int ret = snap_reader_open_fd(memfd_of(buf, len), &r, err, errlen);

    if (ret < 0)
        return ret;
    ret = guest_memory_create(snap_reader_ram_size(r), out);
    assert_int_equal(ret, 0);
    ret = snap_reader_load_ram(r, out, err, errlen);
    snap_reader_close(r);
    if (ret < 0)
        guest_memory_destroy(out);
    return ret;
}

struct counts {
    unsigned int states, rams;
    uint64_t pages;
};

static int on_state(void *opaque, const void *fdt, size_t len)
{
    struct counts *c = opaque;

    (void)fdt;
    (void)len;
    c->states++;
    return 0;
}

static int on_ram(void *opaque, const struct snap_ram *r,
                  const uint8_t *pages)
{
    struct counts *c = opaque;

    (void)pages;
    c->rams++;
    c->pages += r->present;
    return 0;
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct guest_memory m2;
    struct snap_reader *r;
    struct counts c = { 0 };
    struct snap_visitor v = { on_state, on_ram, &c };
    const void *fdt;
    size_t flen;
    char err[256] = "";

    assert_int_equal(load_file(f->file, f->len, &m2, err, sizeof(err)), 0);
    assert_int_equal(memcmp(m2.base, f->mem.base, RAM), 0);
    guest_memory_destroy(&m2);
    assert_int_equal(snap_reader_open_fd(memfd_of(f->file, f->len), &r,
                                         err, sizeof(err)), 0);
    fdt = snap_reader_state(r, &flen);
    assert_int_equal(flen, fdt_totalsize(f->fdt));
    assert_int_equal(memcmp(fdt, f->fdt, flen), 0);
    snap_reader_close(r);
    assert_int_equal(snap_parse_buffer(f->file, f->len, &v, err,
                                       sizeof(err)), 0);
    assert_int_equal(c.states, 1);
    assert_int_equal(c.rams, 3);
    assert_true(c.pages > 64);
}

/* Both readers refuse @buf and say @want somewhere in the reason. */
static void expect_refused(const uint8_t *buf, size_t len, const char *want)
{
    struct guest_memory m2;
    char err[256] = "";

    assert_int_equal(snap_parse_buffer(buf, len, NULL, err, sizeof(err)),
                     -EINVAL);
    if (!strstr(err, want))
        fail_msg("parse: '%s' does not mention '%s'", err, want);
    err[0] = 0;
    assert_int_equal(load_file(buf, len, &m2, err, sizeof(err)), -EINVAL);
    if (!strstr(err, want))
        fail_msg("file: '%s' does not mention '%s'", err, want);
}

static void test_truncated(void **state)
{
    struct fixture *f = *state;
    size_t cuts[] = { 0, 10, 63, 64, 80, 200, f->len / 3, f->len / 2,
                      f->len - 49, f->len - 48, f->len - 1 };

    for (unsigned int i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        const char *want = cuts[i] < 64 ? "truncated" : "";

        expect_refused(f->file, cuts[i], want);
    }
    expect_refused(f->file, f->len - 48, "no end record");
    expect_refused(f->file, f->len / 2, "truncated");
}

/* Offsets of every section header in @f's file. */
static unsigned int section_offsets(const struct fixture *f, size_t *offs,
                                    uint32_t *types)
{
    size_t off = SNAP_HEADER_SIZE;
    unsigned int n = 0;
    struct snap_section s;
    char err[128];

    while (off < f->len) {
        assert_int_equal(snap_section_decode(f->file + off, f->len - off, n,
                                             &s, err, sizeof(err)), 0);
        offs[n] = off;
        types[n++] = s.type;
        off += SNAP_SECTION_HEADER_SIZE + s.length;
    }
    return n;
}

static void flip_and_check(const struct fixture *f, size_t at,
                           const char *want)
{
    uint8_t *copy = malloc(f->len);

    assert_non_null(copy);
    memcpy(copy, f->file, f->len);
    copy[at] ^= 0x40;
    expect_refused(copy, f->len, want);
    free(copy);
}

static void test_flipped_each_section(void **state)
{
    struct fixture *f = *state;
    size_t offs[16];
    uint32_t types[16];
    unsigned int n = section_offsets(f, offs, types);
    char want[64];

    assert_int_equal(n, 5);
    for (size_t at = 0; at < SNAP_HEADER_SIZE; at += 7)
        flip_and_check(f, at, "file header");
    for (unsigned int i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "section %u (%s)", i,
                 snap_section_name(types[i]));
        /* The payload: first byte, a middle byte, the last byte. */
        size_t end = i + 1 < n ? offs[i + 1] : f->len;
        size_t pl = offs[i] + SNAP_SECTION_HEADER_SIZE;

        flip_and_check(f, pl, want);
        flip_and_check(f, pl + (end - pl) / 2, want);
        flip_and_check(f, end - 1, want);
        /* The section header itself. */
        snprintf(want, sizeof(want), "section %u", i);
        flip_and_check(f, offs[i] + 9, want);
    }
}

static void test_foreign_and_new(void **state)
{
    struct fixture *f = *state;
    uint8_t *copy = malloc(f->len);
    uint32_t v = 2;

    assert_non_null(copy);
    memcpy(copy, f->file, f->len);
    memcpy(copy, "ELF\x7f....", 8);
    expect_refused(copy, f->len, "not a minivmm snapshot");
    memcpy(copy, f->file, f->len);
    memcpy(copy + 8, &v, 4);
    expect_refused(copy, f->len, "version 2 is not supported");
    memcpy(copy, f->file, f->len);
    memcpy(copy + f->len, "", 0);
    free(copy);
    copy = malloc(f->len + 5);
    assert_non_null(copy);
    memcpy(copy, f->file, f->len);
    memset(copy + f->len, 0, 5);
    expect_refused(copy, f->len + 5, "");
    free(copy);
}

static void test_ram_decode_limits(void **state)
{
    uint8_t buf[SNAP_RAM_HEADER_SIZE + 8];
    uint64_t bm = 0x3;
    struct snap_ram r;
    char err[128];

    (void)state;
    snap_ram_encode(buf, 0x1000, 2, &bm);
    assert_int_equal(snap_ram_decode(buf, sizeof(buf),
                                     snap_ram_length(2, 2), &r, err,
                                     sizeof(err)), 0);
    assert_int_equal(r.present, 2);
    assert_true(snap_ram_page_present(&r, 1));
    assert_int_equal(snap_ram_decode(buf, sizeof(buf),
                                     snap_ram_length(2, 1), &r, err,
                                     sizeof(err)), -EINVAL);
    bm = 0x7; /* a bit past npages */
    snap_ram_encode(buf, 0x1000, 2, &bm);
    assert_int_equal(snap_ram_decode(buf, sizeof(buf),
                                     snap_ram_length(2, 3), &r, err,
                                     sizeof(err)), -EINVAL);
    snap_ram_encode(buf, 0x1001, 2, &bm); /* unaligned */
    assert_int_equal(snap_ram_decode(buf, sizeof(buf),
                                     snap_ram_length(2, 3), &r, err,
                                     sizeof(err)), -EINVAL);
    snap_ram_encode(buf, 0, 0, &bm); /* no pages */
    assert_int_equal(snap_ram_decode(buf, sizeof(buf), 24, &r, err,
                                     sizeof(err)), -EINVAL);
}

/* Snapshot files by path: a symlink planted at the old predictable
 * temporary name or at the final name is never followed, the file is
 * 0600, and the reader refuses a FIFO (without waiting for a writer) and a
 * directory. */
static void test_file_paths(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/minivmm-test-snap-XXXXXX";
    char path[128], victim[128], tmp[160], fifo[128], buf[8];
    struct snap_reader *r;
    struct stat st;
    char err[256];
    int fd;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/vm.snap", dir);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "precious", 8), 8);
    close(fd);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(snap_write_file(path, f->fdt, fdt_totalsize(f->fdt),
                                     &f->mem, NULL, err, sizeof(err)), 0);
    fd = open(victim, O_RDONLY);
    assert_int_equal(read(fd, buf, 8), 8);
    close(fd);
    assert_memory_equal(buf, "precious", 8);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(snap_reader_open(path, &r, err, sizeof(err)), 0);
    snap_reader_close(r);
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(snap_reader_open(fifo, &r, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(snap_reader_open(dir, &r, err, sizeof(err)), -EINVAL);
    unlink(fifo);
    unlink(path);
    unlink(tmp);
    unlink(victim);
    assert_int_equal(rmdir(dir), 0); /* no temporary file left behind */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_each_section, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_foreign_and_new, setup,
                                        teardown),
        cmocka_unit_test(test_ram_decode_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
