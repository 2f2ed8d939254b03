/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for the server core's migration v1 (vfio/server_mig_v1.c,
 * spec 0.9.1): the migration region it adds (index 9, type capability,
 * VERSION "migration" capability, DEVICE_FEATURE refused), its registers
 * (exact sizes, the spec's transition table, the save iterations and the
 * resume chunks reaching the device's mig_save / mig_load), and
 * DIRTY_PAGES (START / GET_BITMAP read-and-clear / STOP, every field of a
 * hostile request checked). Driven over a socketpair with vfio/conn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfio/proto/conn.h"
#include "vfio/server/server.h"
#include "test_vfio_server_fx.h"

#define IOVA  0x100000ull
#define MREG  VFIO_SRV_MIG_V1_REGION
#define DOFF  VFIO_SRV_MIG_V1_DATA_OFF
#define SAVE  5000u

struct fx {
    struct srv_client k;
    int arcs, loads;
    size_t loaded;
};

static int f_access(void *o, uint32_t region, uint64_t off, void *buf,
                    uint32_t len, bool write)
{
    (void)o, (void)region, (void)off, (void)write;
    memset(buf, 0, len);
    return 0;
}

static int f_arc(void *o, uint32_t from, uint32_t to)
{
    (void)from, (void)to;
    ((struct fx *)o)->arcs++;
    return 0;
}

static int f_save(void *o, void **buf, size_t *len)
{
    (void)o;
    *buf = malloc(SAVE);
    for (uint32_t i = 0; i < SAVE; i++)
        ((uint8_t *)*buf)[i] = (uint8_t)i;
    *len = SAVE;
    return 0;
}

static int f_load(void *o, const void *buf, size_t len)
{
    struct fx *f = o;

    f->loads++;
    f->loaded = len;
    for (size_t i = 0; i < len; i++)
        if (((const uint8_t *)buf)[i] != (uint8_t)i)
            return -EINVAL;
    return len == SAVE ? 0 : -EINVAL;
}

static const struct vfio_srv_dev_ops f_ops = {
    .region_access = f_access, .mig_arc = f_arc, .mig_save = f_save,
    .mig_load = f_load,
};

static int make(struct fx *f, uint32_t nregions)
{
    struct vfio_srv_region rg[16] = {0};
    struct vfio_srv_dev d = {0};
    int r;

    rg[0] = (struct vfio_srv_region){.size = 4096, .flags = 3,
                                     .mmap_fd = -1};
    rg[7] = (struct vfio_srv_region){.size = 256, .flags = 3,
                                     .mmap_fd = -1};
    d.regions = rg;
    d.num_regions = nregions;
    d.num_irqs = 5;
    d.mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
    d.mig_v1 = true;
    d.ops = &f_ops;
    d.opaque = f;
    r = vfio_srv_create(&d, NULL, -1, &f->k.srv);
    if (r)
        return r;
    srv_client_attach(&f->k);
    return 0;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_int_equal(make(f, 9), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    srv_client_free(&f->k);
    free(f);
    return 0;
}

static int call(struct fx *f, uint16_t cmd, const void *pl, size_t len,
                const int *fds, unsigned int nfds)
{
    return srv_client_call(&f->k, cmd, pl, len, fds, nfds);
}

/* VERSION proposing "migration"; the reply's capabilities in *@rep. */
static void version(struct fx *f, bool mig, struct vfio_user_caps *rep)
{
    struct vfio_user_caps caps;
    uint16_t maj, min;
    size_t len;
    void *pl;

    vfio_user_caps_default(&caps);
    caps.max_msg_fds = 8;
    caps.migration = mig;
    caps.mig_pgsize = 4096;
    assert_int_equal(vfio_user_version_encode(0, 1, &caps, &pl, &len), 0);
    assert_int_equal(call(f, VFIO_USER_VERSION, pl, len, NULL, 0), 0);
    free(pl);
    assert_int_equal(vfio_user_version_decode(f->k.buf, f->k.rep.payload_len,
                                              &maj, &min, rep, NULL, 0), 0);
    vfio_user_conn_set_caps(f->k.c, &caps, &caps);
}

static int rd(struct fx *f, uint64_t off, uint32_t len, void *out)
{
    struct vfio_user_region_access a = {off, MREG, len};
    int r = call(f, VFIO_USER_REGION_READ, &a, 16, NULL, 0);

    if (r == 0) {
        assert_int_equal(f->k.rep.payload_len, 16 + len);
        memcpy(out, f->k.buf + 16, len);
    }
    return r;
}

static int wr(struct fx *f, uint64_t off, uint32_t len, const void *in)
{
    uint8_t pl[16 + 8192];
    struct vfio_user_region_access a = {off, MREG, len};

    assert_true(len <= 8192);
    memcpy(pl, &a, 16);
    memcpy(pl + 16, in, len);
    return call(f, VFIO_USER_REGION_WRITE, pl, 16 + len, NULL, 0);
}

static uint64_t rd64(struct fx *f, uint64_t off)
{
    uint64_t v = ~0ull;

    assert_int_equal(rd(f, off, 8, &v), 0);
    return v;
}

static int set_state(struct fx *f, uint32_t s)
{
    return wr(f, 0, 4, &s);
}

/* ---- tests -------------------------------------------------------------- */

static void test_region_and_caps(void **state)
{
    struct fx *f = *state, g = {0};
    struct vfio_user_caps rep;
    struct vfio_user_device_info di = {16, 0, 0, 0};
    struct vfio_region_info ri = {.argsz = 256, .index = MREG};
    struct vfio_region_info_cap_type t;
    uint8_t feat[16] = {0};

    version(f, true, &rep);
    assert_true(rep.migration);
    assert_int_equal(rep.mig_pgsize, 4096);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL, 0),
                     0);
    memcpy(&di, f->k.buf, 16);
    assert_int_equal(di.num_regions, MREG + 1);
    assert_int_equal(call(f, VFIO_USER_DEVICE_GET_REGION_INFO, &ri,
                          sizeof(ri), NULL, 0), 0);
    memcpy(&ri, f->k.buf, sizeof(ri));
    assert_int_equal(ri.size, DOFF + VFIO_SRV_MIG_V1_DATA_SIZE);
    assert_true(ri.flags & VFIO_REGION_INFO_FLAG_CAPS);
    assert_false(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
    memcpy(&t, f->k.buf + ri.cap_offset, sizeof(t));
    assert_int_equal(t.header.id, VFIO_REGION_INFO_CAP_TYPE);
    assert_int_equal(t.type, VFIO_USER_REGION_TYPE_MIGRATION);
    assert_int_equal(t.subtype, VFIO_USER_REGION_SUBTYPE_MIGRATION);
    /* v2's DEVICE_FEATURE is not offered. */
    ((struct vfio_user_device_feature *)feat)->argsz = 16;
    ((struct vfio_user_device_feature *)feat)->flags =
        VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
    assert_int_equal(call(f, VFIO_USER_DEVICE_FEATURE, feat, 8, NULL, 0),
                     -ENOTSUP);
    /* No room for the region: the device may not use index 9. */
    assert_int_equal(make(&g, MREG + 1), -EINVAL);
}

static void test_save_and_resume(void **state)
{
    struct fx *f = *state;
    struct vfio_user_caps rep;
    uint8_t data[SAVE];
    uint32_t s = 99;
    uint64_t n, got = 0;

    version(f, true, &rep);
    assert_int_equal(rd(f, 0, 4, &s), 0);
    assert_int_equal(s, VFIO_USER_MIG_V1_STATE_RUNNING);
    /* Registers only whole: a 2-byte state read, a 4-byte pending read,
     * a write of pending_bytes. */
    assert_int_equal(rd(f, 0, 2, &s), -EINVAL);
    assert_int_equal(rd(f, 8, 4, &s), -EINVAL);
    n = 1;
    assert_int_equal(wr(f, 8, 8, &n), -EINVAL);
    assert_int_equal(rd64(f, 8), 0); /* nothing pending while running */
    /* RUNNING -> STOP is legal, STOP -> SAVING is not (spec table). */
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_STOP), 0);
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_STOP_COPY),
                     -EINVAL);
    assert_int_equal(set_state(f, 5), -EINVAL); /* invalid state */
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_RUNNING), 0);
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_STOP_COPY), 0);
    assert_int_equal(vfio_srv_mig_state(f->k.srv),
                     VFIO_DEVICE_STATE_STOP_COPY);
    /* data_size before data_offset in an iteration: out of sequence. */
    assert_int_equal(rd64(f, 8), SAVE);
    assert_int_equal(rd(f, 24, 8, &n), -EINVAL);
    while ((n = rd64(f, 8)) != 0) {
        uint64_t off = rd64(f, 16), size = rd64(f, 24);

        assert_int_equal(rd64(f, 16), off); /* invariant in an iteration */
        assert_int_equal(off, DOFF);
        assert_true(size > 0 && got + size <= SAVE);
        assert_int_equal(rd(f, off, (uint32_t)size, data + got), 0);
        got += size;
    }
    assert_int_equal(got, SAVE);
    assert_int_equal(data[SAVE - 1], (uint8_t)(SAVE - 1));
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_RESUMING),
                     -EINVAL);
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_STOP), 0);
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_RUNNING), 0);
    /* Resume in two chunks of the same sizes as a source would read. */
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_RESUMING), 0);
    assert_int_equal(rd64(f, 16), DOFF);
    assert_int_equal(wr(f, DOFF, 3000, data), 0);
    n = 3000;
    assert_int_equal(wr(f, 24, 8, &n), 0);
    assert_int_equal(wr(f, DOFF, 2000, data + 3000), 0);
    n = 2000;
    assert_int_equal(wr(f, 24, 8, &n), 0);
    n = 0; /* an empty chunk: nothing appended (no NULL + 0, see fuzz) */
    assert_int_equal(wr(f, 24, 8, &n), 0);
    n = VFIO_SRV_MIG_V1_DATA_SIZE + 1; /* more than the data section */
    assert_int_equal(wr(f, 24, 8, &n), -EINVAL);
    assert_int_equal(wr(f, DOFF + VFIO_SRV_MIG_V1_DATA_SIZE - 4, 8, data),
                     -EINVAL);
    assert_int_equal(wr(f, 64, 8, data), -EINVAL); /* dead space */
    assert_int_equal(f->loads, 0);
    assert_int_equal(set_state(f, VFIO_USER_MIG_V1_STATE_RUNNING), 0);
    assert_int_equal(f->loads, 1);
    assert_int_equal(f->loaded, SAVE);
    assert_int_equal(rd(f, 0, 4, &s), 0);
    assert_int_equal(s, VFIO_USER_MIG_V1_STATE_RUNNING);
}

static int dirty(struct fx *f, uint32_t flags, uint32_t argsz,
                 const struct vfio_user_bitmap_range *rg)
{
    uint8_t pl[8 + 32];
    struct vfio_user_dirty_pages dp = {argsz, flags};

    memcpy(pl, &dp, 8);
    if (rg)
        memcpy(pl + 8, rg, 32);
    return call(f, VFIO_USER_DIRTY_PAGES, pl, rg ? 40 : 8, NULL, 0);
}

static void test_dirty_pages(void **state)
{
    struct fx *f = *state;
    struct vfio_user_caps rep;
    int mfd = memfd_create("g", 0);
    struct vfio_user_dma_map m = {.argsz = 32, .flags = 3, .address = IOVA,
                                  .size = 65536};
    struct vfio_user_bitmap_range rg = {IOVA, 65536, {4096, 8}};
    struct vfio_user_dirty_pages dp;
    uint64_t bm;

    assert_int_equal(ftruncate(mfd, 65536), 0);
    version(f, true, &rep);
    assert_int_equal(call(f, VFIO_USER_DMA_MAP, &m, 32, &mfd, 1), 0);
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), -EINVAL); /* not logging */
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 8, NULL),
                     0);
    assert_int_equal(vfio_srv_dma_write(f->k.srv, IOVA + 5 * 4096, "x", 1), 0);
    assert_int_equal(vfio_srv_dma_write(f->k.srv, IOVA + 15 * 4096, "y", 1),
                     0);
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), 0);
    assert_int_equal(f->k.rep.payload_len, 48);
    memcpy(&dp, f->k.buf, 8);
    assert_int_equal(dp.argsz, 48);
    assert_int_equal(dp.flags, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP);
    assert_memory_equal(f->k.buf + 8, &rg, 32);
    memcpy(&bm, f->k.buf + 40, 8);
    assert_int_equal(bm, (1u << 5) | (1u << 15));
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), 0);
    memcpy(&bm, f->k.buf + 40, 8);
    assert_int_equal(bm, 0); /* read and clear */
    /* Too small a buffer: the size needed, no bitmap. */
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 40,
                           &rg), 0);
    assert_int_equal(f->k.rep.payload_len, 8);
    memcpy(&dp, f->k.buf, 8);
    assert_int_equal(dp.argsz, 48);
    /* Hostile ranges: wrong bitmap size, odd page size, unaligned,
     * wrapping, flags combined, a truncated request. */
    rg.bitmap.size = 16;
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 64,
                           &rg), -EINVAL);
    rg = (struct vfio_user_bitmap_range){IOVA, 65536, {3000, 8}};
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), -EINVAL);
    rg = (struct vfio_user_bitmap_range){IOVA + 1, 65536, {4096, 8}};
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), -EINVAL);
    rg = (struct vfio_user_bitmap_range){~0ull - 4095, 8192, {4096, 8}};
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), -EINVAL);
    rg = (struct vfio_user_bitmap_range){0, 1ull << 40, {4096,
                                                        (1ull << 28) / 8}};
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), -E2BIG);
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
                               VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 8, NULL),
                     -EINVAL);
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           NULL), -EINVAL);
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 8, NULL), 0);
    rg = (struct vfio_user_bitmap_range){IOVA, 65536, {4096, 8}};
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 48,
                           &rg), -EINVAL);
    close(mfd);
}

static void test_dirty_needs_migration(void **state)
{
    struct fx *f = *state;
    struct vfio_user_caps rep;

    version(f, false, &rep); /* the client did not propose migration */
    assert_false(rep.migration);
    assert_int_equal(dirty(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 8, NULL),
                     -ENOTSUP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_region_and_caps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_save_and_resume, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dirty_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_needs_migration, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
