/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: devices/vtd_walk.c (VT-d root/context entries, second-level
 * tables of 3 and 4 levels, large pages, reserved bits, faults, range
 * walks and their coalescing). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/vtd_walk.h"
#include "tests/unit/vtd_fake.h"

#define ROOT 0x100000ull
#define CTP  0x101000ull
#define BDF  0x0318u              /* 03:03.0 */

struct rig {
    struct fake f;
    struct vtd_walker w;
    uint64_t slpt;
};

static int setup(void **state)
{
    struct rig *g = calloc(1, sizeof(*g));

    fake_init(&g->f);
    g->w = (struct vtd_walker){ .mem = fake_mem_ops(), .opaque = &g->f,
                                .haw = 48, .sagaw = 0x6 };
    g->slpt = fake_table(&g->f);
    fake_root(&g->f, ROOT, BDF >> 8, CTP);
    fake_ctx(&g->f, CTP, BDF & 0xff, 0, 2, 7, g->slpt);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct rig *g = *state;

    fake_fini(&g->f);
    free(g);
    return 0;
}

static void test_ctx(void **state)
{
    struct rig *g = *state;
    struct vtd_ctx c;

    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    assert_int_equal(c.tt, VTD_TT_SL);
    assert_int_equal(c.levels, 4);
    assert_int_equal(c.did, 7);
    assert_int_equal(c.slptptr, g->slpt);
    assert_true(c.last == (1ull << 48) - 1);
    /* other function on the bus: not present; other bus: root NP */
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF + 1, &c), VTD_FR_CTX_NP);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, 0x0400, &c), VTD_FR_ROOT_NP);
    assert_int_equal(vtd_walk_ctx(&g->w, FAKE_RAM, BDF, &c),
                     VTD_FR_ROOT_ADDR);
    /* root reserved bits: low 11:1 and the high qword */
    w64(&g->f, ROOT + 3 * 16 + 8, 1);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_ROOT_RSVD);
    w64(&g->f, ROOT + 3 * 16 + 8, 0);
    w64(&g->f, ROOT + 3 * 16, CTP | 1 | 0x10);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_ROOT_RSVD);
    w64(&g->f, ROOT + 3 * 16, (FAKE_RAM + 0x1000) | 1);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_CTX_ADDR);
    fake_root(&g->f, ROOT, 3, CTP);
}

static void test_ctx_invalid(void **state)
{
    struct rig *g = *state;
    struct vtd_ctx c;
    uint64_t at = CTP + (BDF & 0xff) * 16;

    fake_ctx(&g->f, CTP, BDF & 0xff, 1, 2, 7, g->slpt); /* TT 1: no DT */
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_CTX_INV);
    assert_int_equal(c.did, 7);
    fake_ctx(&g->f, CTP, BDF & 0xff, 3, 2, 7, g->slpt);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_CTX_INV);
    fake_ctx(&g->f, CTP, BDF & 0xff, 0, 3, 7, g->slpt); /* 5-level */
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_CTX_INV);
    g->w.sagaw = 0x2; /* a 39-bit unit: AW 2 is not supported */
    fake_ctx(&g->f, CTP, BDF & 0xff, 0, 2, 7, g->slpt);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_CTX_INV);
    fake_ctx(&g->f, CTP, BDF & 0xff, 0, 1, 7, g->slpt);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    assert_int_equal(c.levels, 3);
    assert_true(c.last == (1ull << 39) - 1);
    /* reserved: low 11:4, high bit 7 and 63:24 */
    w64(&g->f, at, r64(&g->f, at) | 0x100);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_CTX_RSVD);
    fake_ctx(&g->f, CTP, BDF & 0xff, 0, 1, 7, g->slpt);
    w64(&g->f, at + 8, r64(&g->f, at + 8) | (1ull << 30));
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), VTD_FR_CTX_RSVD);
    /* pass-through, FPD */
    fake_ctx(&g->f, CTP, BDF & 0xff, 2, 1, 9, 0);
    w64(&g->f, at, r64(&g->f, at) | 2);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    assert_int_equal(c.tt, VTD_TT_PT);
    assert_true(c.fpd);
}

static void test_levels_4(void **state)
{
    struct rig *g = *state;
    struct vtd_ctx c;
    uint64_t gpa, ps;
    uint32_t eff;

    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    fake_map(&g->f, g->slpt, 4, 0x7f1234567000ull, 0x5000, 1, 3);
    fake_map(&g->f, g->slpt, 4, 0x40000000ull, 0x200000, 2, 1);
    fake_map(&g->f, g->slpt, 4, 0x8000000000ull, 0x40000000, 3, 3);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x7f1234567abcull,
                                   VTD_PERM_W, &gpa, &eff, &ps), 0);
    assert_true(gpa == 0x5abc && ps == 4096 && eff == 3);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x40012345ull, VTD_PERM_R,
                                   &gpa, &eff, &ps), 0);
    assert_true(gpa == 0x212345 && ps == (2u << 20) && eff == 1);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x40012345ull, VTD_PERM_W,
                                   &gpa, &eff, &ps), VTD_FR_WRITE);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x8012345678ull, VTD_PERM_R,
                                   &gpa, &eff, &ps), 0);
    assert_true(gpa == 0x52345678 && ps == (1u << 30));
    /* not present at level 4, 3, 2, 1 */
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x100000000000ull, VTD_PERM_R,
                                   &gpa, &eff, &ps), VTD_FR_READ);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x7f0000000000ull, VTD_PERM_W,
                                   &gpa, &eff, &ps), VTD_FR_WRITE);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x7f1200000000ull, VTD_PERM_R,
                                   &gpa, &eff, &ps), VTD_FR_READ);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x7f1234568000ull, VTD_PERM_R,
                                   &gpa, &eff, &ps), VTD_FR_READ);
    /* beyond the 48-bit AGAW */
    assert_int_equal(vtd_walk_iova(&g->w, &c, 1ull << 48, VTD_PERM_R,
                                   &gpa, &eff, &ps), VTD_FR_ADDR_BEYOND);
}

static void test_levels_3(void **state)
{
    struct rig *g = *state;
    struct vtd_ctx c;
    uint64_t gpa, ps;
    uint32_t eff;

    fake_ctx(&g->f, CTP, BDF & 0xff, 0, 1, 7, g->slpt);
    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    fake_map(&g->f, g->slpt, 3, 0x7fc0001000ull, 0x9000, 1, 3);
    fake_map(&g->f, g->slpt, 3, 0x40000000ull, 0x40000000, 3, 3);
    fake_map(&g->f, g->slpt, 3, 0x200000ull, 0x400000, 2, 2);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x7fc0001008ull, VTD_PERM_R,
                                   &gpa, &eff, &ps), 0);
    assert_true(gpa == 0x9008 && ps == 4096);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x7fffffffull, VTD_PERM_W,
                                   &gpa, &eff, &ps), 0);
    assert_true(gpa == 0x7fffffff && ps == (1u << 30));
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x200010ull, VTD_PERM_W,
                                   &gpa, &eff, &ps), 0);
    assert_true(gpa == 0x400010 && eff == VTD_PERM_W);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x200010ull, VTD_PERM_R,
                                   &gpa, &eff, &ps), VTD_FR_READ);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 1ull << 39, VTD_PERM_R,
                                   &gpa, &eff, &ps), VTD_FR_ADDR_BEYOND);
}

static void test_reserved(void **state)
{
    struct rig *g = *state;
    struct vtd_ctx c;
    uint64_t gpa, ps, l4, leaf;
    uint32_t eff;

    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    leaf = fake_map(&g->f, g->slpt, 4, 0x1000, 0x3000, 1, 3);
    l4 = g->slpt;
    /* PS at level 4 */
    w64(&g->f, l4, r64(&g->f, l4) | 0x80);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x1000, VTD_PERM_R, &gpa,
                                   &eff, &ps), VTD_FR_PTE_RSVD);
    w64(&g->f, l4, r64(&g->f, l4) & ~0x80ull);
    /* SNP (bit 11), address bits above HAW */
    w64(&g->f, leaf, 0x3000 | 3 | 0x800);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x1000, VTD_PERM_R, &gpa,
                                   &eff, &ps), VTD_FR_PTE_RSVD);
    w64(&g->f, leaf, 0x3000 | 3 | (1ull << 50));
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x1000, VTD_PERM_R, &gpa,
                                   &eff, &ps), VTD_FR_PTE_RSVD);
    /* ignored bits 61:52 are fine */
    w64(&g->f, leaf, 0x3000 | 3 | (1ull << 55));
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x1000, VTD_PERM_R, &gpa,
                                   &eff, &ps), 0);
    /* a 2 MiB page whose address has bits 20:12 set */
    leaf = fake_map(&g->f, g->slpt, 4, 0x40000000, 0x201000, 2, 3);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x40000000, VTD_PERM_R, &gpa,
                                   &eff, &ps), VTD_FR_PTE_RSVD);
    /* a 1 GiB page, misaligned */
    fake_map(&g->f, g->slpt, 4, 0x80000000, 0x40200000, 3, 3);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x80000000, VTD_PERM_R, &gpa,
                                   &eff, &ps), VTD_FR_PTE_RSVD);
    /* a table outside RAM */
    w64(&g->f, leaf, (FAKE_RAM + 0x200000) | 3);
    w64(&g->f, leaf, 0);
    leaf = fake_map(&g->f, g->slpt, 4, 0x60000000, 0, 2, 3);
    w64(&g->f, leaf, FAKE_RAM | 3); /* level 2 entry -> level 1 table */
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x60000000, VTD_PERM_R, &gpa,
                                   &eff, &ps), VTD_FR_PTE_ADDR);
}

static void test_perm_nonleaf(void **state)
{
    struct rig *g = *state;
    struct vtd_ctx c;
    uint64_t gpa, ps;
    uint32_t eff;

    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    fake_map(&g->f, g->slpt, 4, 0x1000, 0x3000, 1, 3);
    w64(&g->f, g->slpt, (r64(&g->f, g->slpt) & ~3ull) | 1); /* L4 read */
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x1000, VTD_PERM_W, &gpa,
                                   &eff, &ps), VTD_FR_WRITE);
    assert_int_equal(vtd_walk_iova(&g->w, &c, 0x1000, VTD_PERM_R, &gpa,
                                   &eff, &ps), 0);
    assert_int_equal(eff, VTD_PERM_R);
}

static int walk(struct rig *g, uint64_t s, uint64_t e, struct vtd_runs *rs)
{
    struct vtd_ctx c;

    assert_int_equal(vtd_walk_ctx(&g->w, ROOT, BDF, &c), 0);
    return vtd_walk_range(&g->w, &c, s, e, rs);
}

static void test_range_coalesce(void **state)
{
    struct rig *g = *state;
    struct vtd_runs rs = { .max = 64 };

    for (int i = 0; i < 4; i++) /* 4 pages, contiguous */
        fake_map(&g->f, g->slpt, 4, 0x10000 + i * 0x1000, 0x80000 + i * 0x1000,
                 1, 3);
    fake_map(&g->f, g->slpt, 4, 0x14000, 0x84000, 1, 1); /* perms differ */
    fake_map(&g->f, g->slpt, 4, 0x15000, 0x99000, 1, 1); /* gpa gap */
    fake_map(&g->f, g->slpt, 4, 0x16000, 0x9a000, 1, 1); /* joins it */
    /* a 2 MiB page then 4K pages contiguous after it: one run */
    fake_map(&g->f, g->slpt, 4, 0x200000, 0x400000, 2, 3);
    fake_map(&g->f, g->slpt, 4, 0x400000, 0x600000, 1, 3);
    assert_int_equal(walk(g, 0, UINT64_MAX, &rs), 0);
    assert_int_equal(rs.n, 4);
    assert_true(rs.r[0].iova == 0x10000 && rs.r[0].last == 0x13fff &&
                rs.r[0].gpa == 0x80000 && rs.r[0].perm == 3);
    assert_true(rs.r[1].iova == 0x14000 && rs.r[1].last == 0x14fff &&
                rs.r[1].perm == 1);
    assert_true(rs.r[2].iova == 0x15000 && rs.r[2].last == 0x16fff &&
                rs.r[2].gpa == 0x99000);
    assert_true(rs.r[3].iova == 0x200000 && rs.r[3].last == 0x400fff &&
                rs.r[3].gpa == 0x400000);
    /* clipped to the range: part of the 2 MiB page */
    rs.n = 0;
    assert_int_equal(walk(g, 0x300000, 0x300fff, &rs), 0);
    assert_int_equal(rs.n, 1);
    assert_true(rs.r[0].iova == 0x300000 && rs.r[0].last == 0x300fff &&
                rs.r[0].gpa == 0x500000);
    /* the run limit */
    rs.n = 0;
    rs.max = 2;
    assert_int_equal(walk(g, 0, UINT64_MAX, &rs), -ENOSPC);
    free(rs.r);
}

static void test_range_sparse_and_bounded(void **state)
{
    struct rig *g = *state;
    struct vtd_runs rs = { .max = 64 };
    uint64_t l3, l2, z;

    fake_map(&g->f, g->slpt, 4, 0xfffffffff000ull, 0x1000, 1, 3);
    fake_map(&g->f, g->slpt, 4, 0, 0x2000, 1, 3);
    g->f.reads = 0;
    assert_int_equal(walk(g, 0, UINT64_MAX, &rs), 0);
    assert_int_equal(rs.n, 2);
    assert_true(rs.r[1].iova == 0xfffffffff000ull);
    assert_true(g->f.reads <= 2 + 2 * 4); /* one read per table */
    /* a table that points to itself: bounded by the run limit */
    l3 = fake_table(&g->f);
    for (int i = 0; i < 512; i++)
        w64(&g->f, l3 + i * 8, l3 | 3);
    w64(&g->f, g->slpt + 8 * 8, l3 | 3);
    rs.n = 0;
    rs.max = 65536;
    assert_int_equal(walk(g, 0, UINT64_MAX, &rs), -ENOSPC);
    /* tables of empty tables: bounded by the table budget */
    l2 = fake_table(&g->f);
    z = fake_table(&g->f);
    for (int i = 0; i < 512; i++) {
        w64(&g->f, l3 + i * 8, l2 | 3);
        w64(&g->f, l2 + i * 8, z | 3);
    }
    rs.n = 0;
    g->f.reads = 0;
    assert_int_equal(walk(g, 0, UINT64_MAX, &rs), -E2BIG);
    assert_true(g->f.reads <= VTD_WALK_MAX_TABLES + 8);
    free(rs.r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ctx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctx_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_perm_nonleaf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_coalesce, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_range_sparse_and_bounded,
                                        setup, teardown),
    };

    return cmocka_run_group_tests_name("vtd_walk", tests, NULL, NULL);
}
