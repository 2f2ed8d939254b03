/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for arch/x86 boot: e820.c, boot.c (probe, initrd placement,
 * file reading), bzimage.c and pvh.c, over synthetic bzImage and ELF images
 * and a real (sparse) guest_memory. Malformed and random images must give
 * an error, never a crash: buffers are malloc'd to their exact length so
 * `make asan` catches over-reads.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/boot.h"
#include "arch/x86/e820.h"
#include "vmm/memory.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void check_entry(const struct e820_map *m, unsigned int i,
                        uint64_t addr, uint64_t size, uint32_t type)
{
    assert_true(i < m->nr);
    assert_int_equal(m->e[i].addr, addr);
    assert_int_equal(m->e[i].size, size);
    assert_int_equal(m->e[i].type, type);
}

static void build_map(uint64_t ram, struct guest_memory *mem,
                      struct e820_map *map)
{
    assert_int_equal(guest_memory_create(ram, mem), 0);
    e820_build(mem, map);
    for (unsigned int i = 1; i < map->nr; i++) /* sorted, disjoint */
        assert_true(map->e[i - 1].addr + map->e[i - 1].size <=
                    map->e[i].addr);
}

static void test_e820(void **state)
{
    struct guest_memory mem;
    struct e820_map map;

    (void)state;
    build_map(64 * MiB, &mem, &map);
    assert_int_equal(map.nr, 4);
    check_entry(&map, 0, 0, 0x9fc00, E820_RAM);
    check_entry(&map, 1, 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED);
    check_entry(&map, 2, 0x100000, 63 * MiB, E820_RAM);
    check_entry(&map, 3, 0xe0000000, 0x10000000, E820_RESERVED);
    guest_memory_destroy(&mem);

    build_map(3 * GiB, &mem, &map);
    assert_int_equal(map.nr, 4);
    check_entry(&map, 2, 0x100000, 3 * GiB - MiB, E820_RAM);
    guest_memory_destroy(&mem);

    build_map(5 * GiB, &mem, &map);
    assert_int_equal(map.nr, 5);
    check_entry(&map, 0, 0, 0x9fc00, E820_RAM);
    check_entry(&map, 1, 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED);
    check_entry(&map, 2, 0x100000, 3 * GiB - MiB, E820_RAM);
    check_entry(&map, 3, 0xe0000000, 0x10000000, E820_RESERVED);
    check_entry(&map, 4, 4 * GiB, 2 * GiB, E820_RAM);
    guest_memory_destroy(&mem);

    /* Tiny guests: no RAM entry above 1 MiB. */
    build_map(512 * KiB, &mem, &map);
    assert_int_equal(map.nr, 3);
    check_entry(&map, 0, 0, 512 * KiB, E820_RAM);
    check_entry(&map, 2, 0xe0000000, 0x10000000, E820_RESERVED);
    guest_memory_destroy(&mem);
}

/* ---- synthetic images ---- */

#define BZ_PM_LEN   0x2000
#define BZ_INIT_SZ  0x100000
#define BZ_HDR_JUMP 0x66 /* header ends at 0x268 */

static uint8_t *build_bz(size_t *len, uint16_t version, uint16_t xlf,
                         uint8_t sects)
{
    size_t setup = ((sects ? sects : 4) + 1) * 512;
    uint32_t rd_max = 0x7fffffff, init = BZ_INIT_SZ;
    uint8_t *b;

    *len = setup + BZ_PM_LEN;
    b = calloc(1, *len);
    assert_non_null(b);
    b[0x1f1] = sects;
    b[0x200] = 0xeb;
    b[0x201] = BZ_HDR_JUMP;
    memcpy(b + 0x202, "HdrS", 4);
    memcpy(b + 0x206, &version, 2);
    memcpy(b + 0x22c, &rd_max, 4);
    memcpy(b + 0x236, &xlf, 2);
    memcpy(b + 0x260, &init, 4);
    for (size_t i = setup; i < *len; i++)
        b[i] = (uint8_t)(i * 13 + 5);
    return b;
}

struct elf_opts {
    int is64;
    uint32_t descsz; /* Xen note's desc size; 0: no Xen note */
    uint32_t entry;
    uint64_t paddr;  /* the PT_LOAD segment */
    uint32_t filesz, memsz;
};

#define PH_OFF   0x40
#define NOTE_OFF 0x100
#define DATA_OFF 0x200

/* A GNU build-id-like note, then (if asked) the Xen PVH entry note. */
static size_t put_notes(uint8_t *n, const struct elf_opts *o)
{
    uint32_t gnu[3] = { 4, 8, 3 }, xen[3] = { 4, o->descsz, 18 };
    uint32_t desc[2] = { o->entry, 0 };
    size_t l = 0;

    memcpy(n, gnu, 12);
    memcpy(n + 12, "GNU", 4);
    memset(n + 16, 0x42, 8);
    l = 24;
    if (o->descsz) {
        memcpy(n + l, xen, 12);
        memcpy(n + l + 12, "Xen", 4);
        memcpy(n + l + 16, desc, o->descsz);
        l += 16 + o->descsz;
    }
    return l;
}

static void put_phdrs(uint8_t *b, const struct elf_opts *o, size_t note_len)
{
    if (o->is64) {
        Elf64_Phdr *p = (Elf64_Phdr *)(void *)(b + PH_OFF);

        p[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = DATA_OFF,
                             .p_paddr = o->paddr, .p_vaddr = o->paddr,
                             .p_filesz = o->filesz, .p_memsz = o->memsz };
        p[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
                             .p_filesz = note_len, .p_memsz = note_len };
    } else {
        Elf32_Phdr *p = (Elf32_Phdr *)(void *)(b + PH_OFF);

        p[0] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = DATA_OFF,
                             .p_paddr = (uint32_t)o->paddr,
                             .p_filesz = o->filesz, .p_memsz = o->memsz };
        p[1] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF,
                             .p_filesz = (uint32_t)note_len,
                             .p_memsz = (uint32_t)note_len };
    }
}

static uint8_t *build_elf(const struct elf_opts *o, size_t *len)
{
    uint8_t *b;

    *len = DATA_OFF + o->filesz;
    b = calloc(1, *len);
    assert_non_null(b);
    memcpy(b, ELFMAG, SELFMAG);
    b[EI_CLASS] = o->is64 ? ELFCLASS64 : ELFCLASS32;
    b[EI_DATA] = ELFDATA2LSB;
    b[EI_VERSION] = EV_CURRENT;
    if (o->is64) {
        Elf64_Ehdr *e = (Elf64_Ehdr *)(void *)b;

        e->e_type = ET_EXEC, e->e_machine = EM_X86_64;
        e->e_entry = 0xffffffff81000000ULL;
        e->e_phoff = PH_OFF, e->e_phentsize = sizeof(Elf64_Phdr);
        e->e_phnum = 2, e->e_ehsize = sizeof(*e);
    } else {
        Elf32_Ehdr *e = (Elf32_Ehdr *)(void *)b;

        e->e_type = ET_EXEC, e->e_machine = EM_386;
        e->e_phoff = PH_OFF, e->e_phentsize = sizeof(Elf32_Phdr);
        e->e_phnum = 2, e->e_ehsize = sizeof(*e);
    }
    put_phdrs(b, o, put_notes(b + NOTE_OFF, o));
    for (uint32_t i = 0; i < o->filesz; i++)
        b[DATA_OFF + i] = (uint8_t)(i * 7 + 1);
    return b;
}

static const struct elf_opts elf_default = {
    .is64 = 1, .descsz = 4, .entry = 0x100040, .paddr = 0x100000,
    .filesz = 0x1800, .memsz = 0x4000,
};

/* Probe a copy of @buf of exactly @len bytes. */
static int probe(const uint8_t *buf, size_t len, uint64_t *entry, char *err,
                 size_t errlen)
{
    uint8_t *copy = malloc(len ? len : 1);
    int r;

    assert_non_null(copy);
    memcpy(copy, buf, len);
    err[0] = 0;
    r = boot_image_probe(copy, len, entry, err, errlen);
    free(copy);
    return r;
}

static void expect_probe_error(const uint8_t *buf, size_t len,
                               const char *needle)
{
    char err[256];
    uint64_t entry;

    assert_int_equal(probe(buf, len, &entry, err, sizeof(err)), -EINVAL);
    if (needle && !strstr(err, needle))
        fail_msg("probe error '%s' lacks '%s'", err, needle);
}

static void test_probe_bzimage(void **state)
{
    char err[256];
    uint64_t entry;
    size_t len;
    uint8_t *b;

    (void)state;
    b = build_bz(&len, 0x20f, 1, 1);
    assert_int_equal(probe(b, len, &entry, err, sizeof(err)),
                     KERNEL_BZIMAGE);
    /* Every truncation, down to where "HdrS" is no longer seen. */
    for (size_t l = 0; l <= 1024; l++)
        expect_probe_error(b, l, NULL);
    expect_probe_error(b, 0x300, "truncated");
    assert_int_equal(probe(b, 1025, &entry, err, sizeof(err)),
                     KERNEL_BZIMAGE);
    b[0x202] = 'h';
    expect_probe_error(b, len, "not a Linux bzImage");
    free(b);

    b = build_bz(&len, 0x20c, 1, 0); /* setup_sects 0 means 4 */
    assert_int_equal(probe(b, len, &entry, err, sizeof(err)),
                     KERNEL_BZIMAGE);
    expect_probe_error(b, 5 * 512, "truncated");
    free(b);

    b = build_bz(&len, 0x20b, 1, 1);
    expect_probe_error(b, len, "older than");
    free(b);
    b = build_bz(&len, 0x0100, 1, 1);
    expect_probe_error(b, len, "0x100");
    free(b);
    b = build_bz(&len, 0x20f, 0x1e, 1);
    expect_probe_error(b, len, "XLF_KERNEL_64");
    free(b);
}

static void test_probe_elf(void **state)
{
    static const struct {
        int is64;
        uint32_t descsz, entry;
    } ok[] = {
        { 1, 4, 0x1000000 }, { 1, 8, 0x1234567 }, { 0, 4, 0x100000 },
        { 0, 8, 0xfffffff0 },
    };
    struct elf_opts o = elf_default;
    char err[256];
    uint64_t entry;
    size_t len;
    uint8_t *b;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        o.is64 = ok[i].is64, o.descsz = ok[i].descsz, o.entry = ok[i].entry;
        b = build_elf(&o, &len);
        entry = ~0ULL;
        assert_int_equal(probe(b, len, &entry, err, sizeof(err)),
                         KERNEL_PVH_ELF);
        assert_int_equal(entry, ok[i].entry);
        free(b);
    }
    o = elf_default;
    o.descsz = 0;
    b = build_elf(&o, &len);
    expect_probe_error(b, len, "PVH");
    free(b);
    o.is64 = 0;
    b = build_elf(&o, &len);
    expect_probe_error(b, len, "PVH");
    free(b);
}

/* Byte patches that break the default ELF64; @rel: @val is added to the
 * file length. Each must give an error naming the broken part. */
#define PH(i, f) (PH_OFF + (i) * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, f))
#define EH(f)    offsetof(Elf64_Ehdr, f)

static const struct patch {
    size_t off;
    unsigned int size;
    int rel;
    uint64_t val;
    const char *needle;
} patches[] = {
    { PH(1, p_offset), 8, 1, 100, "program header 1" },    /* beyond file */
    { PH(1, p_offset), 8, 0, UINT64_MAX - 8, "program header 1" },
    { PH(1, p_filesz), 8, 1, 1 - NOTE_OFF, "program header 1" },
    { PH(0, p_memsz), 8, 0, 0x17ff, "program header 0" }, /* < filesz */
    { NOTE_OFF, 4, 0, 0xfffffff0, "note segment 1" },     /* huge namesz */
    { NOTE_OFF + 4, 4, 0, 0xffffffff, "note segment 1" }, /* huge descsz */
    { NOTE_OFF + 28, 4, 0, 5, "note segment 1" },         /* Xen desc 5 */
    { EH(e_phentsize), 2, 0, sizeof(Elf64_Phdr) - 1, "malformed" },
    { EH(e_phoff), 8, 1, (uint64_t)-8, "malformed" },
    { EH(e_phoff), 8, 0, UINT64_MAX - 0x10, "malformed" },
    { EH(e_phnum), 2, 0, 0xffff, "malformed" },
    { EI_CLASS, 1, 0, 3, "ELF32/ELF64" },
    { EI_DATA, 1, 0, ELFDATA2MSB, "little-endian" },
};

static void test_probe_malformed(void **state)
{
    size_t len;
    uint8_t *b;

    (void)state;
    for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
        const struct patch *p = &patches[i];
        uint64_t v;

        b = build_elf(&elf_default, &len);
        v = p->val + (p->rel ? len : 0);
        memcpy(b + p->off, &v, p->size); /* little-endian host */
        expect_probe_error(b, len, p->needle);
        free(b);
    }

    /* Truncations of a valid ELF64 and ELF32. */
    b = build_elf(&elf_default, &len);
    for (size_t l = 0; l < NOTE_OFF + 40; l++)
        expect_probe_error(b, l, NULL);
    expect_probe_error(b, 40, "ELF header truncated");
    free(b);
}

/* Random bytes, and random mutations of valid images: never a crash. */
static void fuzz_one(uint8_t *b, size_t len, unsigned int flips)
{
    char err[256];
    uint64_t entry;
    int r;

    for (unsigned int k = 0; k < flips && len; k++)
        b[(size_t)rand() % len] = (uint8_t)rand();
    r = probe(b, len, &entry, err, sizeof(err));
    assert_true(r == -EINVAL || r == KERNEL_BZIMAGE || r == KERNEL_PVH_ELF);
    if (r < 0)
        assert_true(strlen(err) > 0);
}

static void test_probe_garbage(void **state)
{
    struct elf_opts o = elf_default;
    uint8_t *tmpl, *b;
    size_t len;

    (void)state;
    srand(42);
    for (int i = 0; i < 20000; i++) {
        size_t l = (size_t)rand() % 4096;

        b = malloc(l + 1);
        for (size_t k = 0; k < l; k++)
            b[k] = (uint8_t)rand();
        if (l >= 4 && i % 3 == 0)
            memcpy(b, ELFMAG, 4);
        if (l >= 0x206 && i % 3 == 1)
            memcpy(b + 0x202, "HdrS", 4);
        fuzz_one(b, l, 0);
        free(b);
    }
    for (int i = 0; i < 30000; i++) {
        o.is64 = i % 2;
        tmpl = i % 3 ? build_elf(&o, &len) : build_bz(&len, 0x20f, 1, 1);
        fuzz_one(tmpl, (size_t)rand() % (len + 1), 1 + (unsigned)i % 8);
        free(tmpl);
    }
}

/* ---- loading ---- */

struct load_ctx {
    struct guest_memory mem;
    struct e820_map map;
    struct boot_image img;
    struct boot_entry entry;
    char err[256];
};

static uint32_t g32(struct load_ctx *c, uint64_t gpa)
{
    uint32_t v;

    assert_int_equal(guest_memory_read(&c->mem, gpa, &v, 4), 0);
    return v;
}

static uint64_t g64(struct load_ctx *c, uint64_t gpa)
{
    uint64_t v;

    assert_int_equal(guest_memory_read(&c->mem, gpa, &v, 8), 0);
    return v;
}

static void load_setup(struct load_ctx *c, uint64_t ram, uint8_t *kernel,
                       size_t klen, size_t initrd_len)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    assert_int_equal(guest_memory_create(ram, &c->mem), 0);
    e820_build(&c->mem, &c->map);
    c->img.kernel = kernel;
    c->img.kernel_len = klen;
    c->img.cmdline = "console=ttyS0 root=/dev/vda";
    c->img.format = (enum kernel_format)boot_image_probe(
        kernel, klen, &c->img.pvh_entry, err, sizeof(err));
    assert_true((int)c->img.format > 0);
    if (initrd_len) {
        c->img.initrd = malloc(initrd_len);
        assert_non_null(c->img.initrd);
        for (size_t i = 0; i < initrd_len; i++)
            c->img.initrd[i] = (uint8_t)(i * 3 + 11);
        c->img.initrd_len = initrd_len;
    }
}

static int load(struct load_ctx *c)
{
    return boot_image_load(&c->img, &c->mem, &c->map, 0xe0000, &c->entry,
                           c->err, sizeof(c->err));
}

static void load_teardown(struct load_ctx *c)
{
    boot_image_close(&c->img);
    guest_memory_destroy(&c->mem);
}

static void check_common(struct load_ctx *c)
{
    char cmd[64] = "";

    assert_int_equal(guest_memory_read(&c->mem, X86_CMDLINE_GPA, cmd,
                                       strlen(c->img.cmdline) + 1),
                     0);
    assert_string_equal(cmd, c->img.cmdline);
}

/* hvm_start_info (Xen start_info.h): check header and memory map. */
static void check_start_info(struct load_ctx *c, uint32_t nr_modules)
{
    uint64_t si = X86_START_INFO_GPA, mm;

    assert_int_equal(g32(c, si), 0x336ec578);
    assert_int_equal(g32(c, si + 4), 1);
    assert_int_equal(g32(c, si + 12), nr_modules);
    assert_int_equal(g64(c, si + 24), X86_CMDLINE_GPA);
    assert_int_equal(g64(c, si + 32), 0xe0000);
    mm = g64(c, si + 40);
    assert_int_equal(g32(c, si + 48), c->map.nr);
    for (unsigned int i = 0; i < c->map.nr; i++) {
        assert_int_equal(g64(c, mm + i * 24), c->map.e[i].addr);
        assert_int_equal(g64(c, mm + i * 24 + 8), c->map.e[i].size);
        assert_int_equal(g32(c, mm + i * 24 + 16), c->map.e[i].type);
    }
}

static void test_load_pvh(void **state)
{
    struct elf_opts o = elf_default;
    struct load_ctx c;
    uint64_t mod, rd;
    size_t len;
    uint8_t *k;

    (void)state;
    for (o.is64 = 0; o.is64 < 2; o.is64++) {
        k = build_elf(&o, &len);
        load_setup(&c, 64 * MiB, k, len, 10000);
        memset(c.mem.base + o.paddr, 0xaa, 0x8000); /* stale bytes */
        assert_int_equal(load(&c), 0);
        assert_int_equal(c.entry.long_mode, 0);
        assert_int_equal(c.entry.rip, o.entry);
        assert_int_equal(c.entry.rbx, X86_START_INFO_GPA);
        assert_memory_equal(c.mem.base + o.paddr, k + DATA_OFF, o.filesz);
        for (uint64_t i = o.filesz; i < o.memsz; i++) /* bss zeroed */
            assert_int_equal(c.mem.base[o.paddr + i], 0);
        assert_int_equal(c.mem.base[o.paddr + o.memsz], 0xaa);
        check_start_info(&c, 1);
        check_common(&c);
        mod = g64(&c, X86_START_INFO_GPA + 16);
        rd = g64(&c, mod);
        assert_int_equal(g64(&c, mod + 8), 10000);
        assert_int_equal(rd % 4096, 0);
        assert_true(rd >= o.paddr + o.memsz);
        assert_true(rd + 10000 <= 64 * MiB);
        assert_true(rd + 10000 + 4096 > 64 * MiB); /* as high as possible */
        assert_memory_equal(c.mem.base + rd, c.img.initrd, 10000);
        load_teardown(&c);
    }
    /* Without an initrd: no module. */
    k = build_elf(&o, &len);
    load_setup(&c, 64 * MiB, k, len, 0);
    assert_int_equal(load(&c), 0);
    check_start_info(&c, 0);
    load_teardown(&c);
}

static void pvh_expect_enospc(uint64_t ram, uint64_t paddr, uint32_t memsz,
                              size_t initrd_len)
{
    struct elf_opts o = elf_default;
    struct load_ctx c;
    size_t len;
    uint8_t *k;

    o.paddr = paddr;
    o.memsz = memsz;
    k = build_elf(&o, &len);
    load_setup(&c, ram, k, len, initrd_len);
    assert_int_equal(load(&c), -ENOSPC);
    assert_true(strlen(c.err) > 0);
    load_teardown(&c);
}

/* The note comes first and a later PT_LOAD is bad: the probe must not stop
 * at the note, and the loader must not trust an unprobed image either. */
static void test_pvh_bad_load_after_note(void **state)
{
    struct load_ctx c;
    Elf64_Phdr tmp, *ph;
    size_t len;
    uint8_t *k = build_elf(&elf_default, &len);

    (void)state;
    ph = (Elf64_Phdr *)(void *)(k + PH_OFF);
    tmp = ph[0], ph[0] = ph[1], ph[1] = tmp; /* PT_NOTE first: still fine */
    load_setup(&c, 64 * MiB, k, len, 0);
    assert_int_equal(load(&c), 0);
    assert_memory_equal(c.mem.base + 0x100000, k + DATA_OFF, 0x1800);

    ph[1].p_offset = len + 0x100000; /* PT_LOAD data beyond the file */
    expect_probe_error(k, len, "program header 1");
    assert_int_equal(load(&c), -EINVAL);
    assert_non_null(strstr(c.err, "program header 1"));
    ph[1].p_offset = DATA_OFF;
    ph[1].p_memsz = 0x1000; /* below p_filesz */
    expect_probe_error(k, len, "program header 1");
    assert_int_equal(load(&c), -EINVAL);
    load_teardown(&c);
}

static void test_load_pvh_errors(void **state)
{
    (void)state;
    pvh_expect_enospc(64 * MiB, 128 * MiB, 0x4000, 0);   /* beyond RAM */
    pvh_expect_enospc(64 * MiB, 64 * MiB - 0x1000, 0x4000, 0); /* straddle */
    pvh_expect_enospc(64 * MiB, 0x80000, 0x4000, 0);     /* below 1 MiB */
    pvh_expect_enospc(64 * MiB, 0xc0000000, 0x4000, 0);  /* in a hole */
    pvh_expect_enospc(8 * MiB, 0x100000, 0x4000, 8 * MiB); /* big initrd */
    /* Initrd would have to go below the kernel's end. */
    pvh_expect_enospc(8 * MiB, 0x100000, 6 * MiB, 2 * MiB);
    /* RAM too small for the command line at 0x20000. */
    pvh_expect_enospc(64 * KiB, 0x100000, 0x4000, 0);
}

static void test_load_bzimage(void **state)
{
    uint64_t bp = X86_ZERO_PAGE_GPA, rd;
    struct load_ctx c;
    size_t len;
    uint8_t *k = build_bz(&len, 0x20f, 1, 1);

    (void)state;
    load_setup(&c, 64 * MiB, k, len, 100000);
    assert_int_equal(c.img.format, KERNEL_BZIMAGE);
    assert_int_equal(load(&c), 0);
    assert_int_equal(c.entry.long_mode, 1);
    assert_int_equal(c.entry.rip, 0x100200);
    assert_int_equal(c.entry.rsi, X86_ZERO_PAGE_GPA);
    assert_memory_equal(c.mem.base + 0x100000, k + 1024, BZ_PM_LEN);
    check_common(&c);
    /* The setup header copy, then what the loader fills in. */
    assert_int_equal(g32(&c, bp + 0x202), 0x53726448); /* "HdrS" */
    assert_int_equal(g32(&c, bp + 0x206) & 0xffff, 0x20f);
    assert_int_equal(g32(&c, bp + 0x260), BZ_INIT_SZ);
    assert_int_equal(c.mem.base[bp + 0x1f1], 1);
    assert_int_equal(c.mem.base[bp + 0x210], 0xff); /* type_of_loader */
    assert_int_equal(c.mem.base[bp + 0x211] & 0x81, 0x81);
    assert_int_equal(g32(&c, bp + 0x224) & 0xffff, 0xfe00);
    assert_int_equal(g32(&c, bp + 0x228), X86_CMDLINE_GPA);
    assert_int_equal(g32(&c, bp + 0xc8), 0);
    assert_int_equal(g64(&c, bp + 0x70), 0xe0000);
    /* e820 table. */
    assert_int_equal(c.mem.base[bp + 0x1e8], c.map.nr);
    for (unsigned int i = 0; i < c.map.nr; i++) {
        assert_int_equal(g64(&c, bp + 0x2d0 + i * 20), c.map.e[i].addr);
        assert_int_equal(g64(&c, bp + 0x2d8 + i * 20), c.map.e[i].size);
        assert_int_equal(g32(&c, bp + 0x2e0 + i * 20), c.map.e[i].type);
    }
    /* The initrd: page-aligned, above the kernel's init_size, in RAM. */
    rd = g32(&c, bp + 0x218) | (uint64_t)g32(&c, bp + 0xc0) << 32;
    assert_int_equal(g32(&c, bp + 0x21c), 100000);
    assert_int_equal(g32(&c, bp + 0xc4), 0);
    assert_int_equal(rd % 4096, 0);
    assert_true(rd >= 0x100000 + BZ_INIT_SZ);
    assert_true(rd + 100000 <= 64 * MiB);
    assert_memory_equal(c.mem.base + rd, c.img.initrd, 100000);
    load_teardown(&c);
}

static void bz_case(uint64_t ram, uint32_t rd_max, uint32_t init_size,
                    size_t initrd_len, int expect, uint64_t rd_below)
{
    struct load_ctx c;
    size_t len;
    uint8_t *k = build_bz(&len, 0x20f, 1, 1);

    memcpy(k + 0x22c, &rd_max, 4);
    memcpy(k + 0x260, &init_size, 4);
    load_setup(&c, ram, k, len, initrd_len);
    assert_int_equal(load(&c), expect);
    if (expect == 0 && initrd_len) {
        uint64_t rd = g32(&c, X86_ZERO_PAGE_GPA + 0x218);

        assert_true(rd + initrd_len <= rd_below);
        assert_true(rd + initrd_len + 4096 > rd_below);
    }
    if (expect < 0)
        assert_true(strlen(c.err) > 0);
    load_teardown(&c);
}

static void test_load_bzimage_limits(void **state)
{
    (void)state;
    /* initrd_addr_max below the top of RAM bounds the initrd. */
    bz_case(2 * GiB, 0x37ffffff, BZ_INIT_SZ, 5000, 0, 0x38000000);
    bz_case(5 * GiB, 0xffffffff, BZ_INIT_SZ, 5000, 0, 3 * GiB);
    bz_case(64 * MiB, 0x7fffffff, BZ_INIT_SZ, 5000, 0, 64 * MiB);
    /* Kernel (init_size) larger than RAM. */
    bz_case(64 * MiB, 0x7fffffff, 128 * MiB, 0, -ENOSPC, 0);
    bz_case(64 * MiB, 0x7fffffff, 63 * MiB, 0, 0, 0);
    bz_case(64 * MiB, 0x7fffffff, 63 * MiB + 1, 0, -ENOSPC, 0);
    /* Initrd does not fit above the kernel / below initrd_addr_max. */
    bz_case(64 * MiB, 0x7fffffff, 32 * MiB, 32 * MiB, -ENOSPC, 0);
    bz_case(64 * MiB, 0x1fffff, BZ_INIT_SZ, 4096, -ENOSPC, 0);
    bz_case(64 * MiB, 0, BZ_INIT_SZ, 4096, -ENOSPC, 0);
    bz_case(64 * KiB, 0x7fffffff, BZ_INIT_SZ, 0, -ENOSPC, 0);
}

static void test_initrd_addr(void **state)
{
    struct guest_memory mem;
    struct e820_map map;

    (void)state;
    build_map(64 * MiB, &mem, &map);
    assert_int_equal(boot_initrd_addr(&map, 4096, ~0ULL), 64 * MiB - 4096);
    assert_int_equal(boot_initrd_addr(&map, 4097, ~0ULL), 64 * MiB - 8192);
    assert_int_equal(boot_initrd_addr(&map, 1, 32 * MiB), 32 * MiB - 4096);
    assert_int_equal(boot_initrd_addr(&map, 4096, 32 * MiB + 1),
                     32 * MiB - 4096);
    assert_int_equal(boot_initrd_addr(&map, 63 * MiB, ~0ULL), MiB);
    assert_int_equal(boot_initrd_addr(&map, 63 * MiB + 1, ~0ULL), 0);
    assert_int_equal(boot_initrd_addr(&map, 4096, MiB), 0);
    assert_int_equal(boot_initrd_addr(&map, 4096, MiB + 4096), MiB);
    assert_int_equal(boot_initrd_addr(&map, 4096, 0), 0);
    assert_int_equal(boot_initrd_addr(&map, UINT64_MAX, ~0ULL), 0);
    assert_int_equal(boot_initrd_addr(&map, UINT64_MAX - 4096, ~0ULL), 0);
    guest_memory_destroy(&mem);

    build_map(5 * GiB, &mem, &map);
    assert_int_equal(boot_initrd_addr(&map, 4096, ~0ULL), 6 * GiB - 4096);
    assert_int_equal(boot_initrd_addr(&map, 4096, 1ULL << 32),
                     3 * GiB - 4096);
    assert_int_equal(boot_initrd_addr(&map, 2 * GiB, ~0ULL), 4 * GiB);
    assert_int_equal(boot_initrd_addr(&map, 2 * GiB + 1, ~0ULL),
                     GiB - 4096); /* falls back to low RAM */
    assert_int_equal(boot_initrd_addr(&map, 3 * GiB, ~0ULL), 0);
    guest_memory_destroy(&mem);

    /* Only low RAM, reserved-only, and unaligned RAM entries. */
    map = (struct e820_map){ 2, { { 0, 0x9fc00, E820_RAM },
                                  { 0x100000, 0x1000, E820_RESERVED } } };
    assert_int_equal(boot_initrd_addr(&map, 4096, ~0ULL), 0);
    map = (struct e820_map){ 1, { { 0x100800, 0x1000, E820_RAM } } };
    assert_int_equal(boot_initrd_addr(&map, 0x800, ~0ULL), 0x101000);
    assert_int_equal(boot_initrd_addr(&map, 0x801, ~0ULL), 0);
    map.nr = 0;
    assert_int_equal(boot_initrd_addr(&map, 1, ~0ULL), 0);
}

/* boot_image_open over real files. */
static char *write_tmp(const void *data, size_t len)
{
    char *path = strdup("/tmp/minivmm-test-boot-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_image_open(void **state)
{
    static char longcmd[X86_CMDLINE_MAX_LEN + 1];
    struct boot_image img;
    char err[512];
    size_t len;
    uint8_t *k = build_elf(&elf_default, &len);
    char *kp = write_tmp(k, len), *rp = write_tmp("initrd", 6);
    char *ep = write_tmp("", 0), *gp = write_tmp("garbage!", 8);

    (void)state;
    assert_int_equal(boot_image_open(&img, kp, rp, NULL, err, sizeof(err)),
                     0);
    assert_int_equal(img.format, KERNEL_PVH_ELF);
    assert_int_equal(img.pvh_entry, elf_default.entry);
    assert_int_equal(img.kernel_len, len);
    assert_memory_equal(img.kernel, k, len);
    assert_int_equal(img.initrd_len, 6);
    assert_string_equal(img.cmdline, "");
    boot_image_close(&img);
    boot_image_close(&img); /* idempotent */

    assert_int_equal(boot_image_open(&img, "/nonexistent/k", NULL, "", err,
                                     sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/k"));
    assert_int_equal(boot_image_open(&img, "/tmp", NULL, "", err,
                                     sizeof(err)),
                     -EINVAL);
    assert_int_equal(boot_image_open(&img, ep, NULL, "", err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(boot_image_open(&img, gp, NULL, "", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, gp));
    assert_int_equal(boot_image_open(&img, kp, ep, "", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "initrd"));
    assert_null(img.kernel);
    memset(longcmd, 'a', X86_CMDLINE_MAX_LEN);
    assert_int_equal(boot_image_open(&img, kp, NULL, longcmd, err,
                                     sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "--cmdline"));
    longcmd[X86_CMDLINE_MAX_LEN - 1] = 0; /* exactly the limit: fine */
    assert_int_equal(boot_image_open(&img, kp, NULL, longcmd, err,
                                     sizeof(err)),
                     0);
    boot_image_close(&img);
    unlink(kp), unlink(rp), unlink(ep), unlink(gp);
    free(kp), free(rp), free(ep), free(gp), free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e820),
        cmocka_unit_test(test_probe_bzimage),
        cmocka_unit_test(test_probe_elf),
        cmocka_unit_test(test_probe_malformed),
        cmocka_unit_test(test_probe_garbage),
        cmocka_unit_test(test_load_pvh),
        cmocka_unit_test(test_load_pvh_errors),
        cmocka_unit_test(test_pvh_bad_load_after_note),
        cmocka_unit_test(test_load_bzimage),
        cmocka_unit_test(test_load_bzimage_limits),
        cmocka_unit_test(test_initrd_addr),
        cmocka_unit_test(test_image_open),
    };

    return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
