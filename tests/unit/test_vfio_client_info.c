/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/client_info.c: region info with sparse-mmap and type
 * capabilities, GET_REGION_IO_FDS with 40- and 48-byte entries, unusable
 * entries skipped, and lying servers (sparse areas and io-fd offsets out
 * of range, bad fd_index, stride, capability loops, IRQ counts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vfio/client/client.h"
#include "test_vfio_client_fake.h"

static struct vfio_client *connect_fake(struct fake *f)
{
    struct vfio_client_opts o = {.name = "i0", .timeout_ms = 2000};
    struct vfio_client *c;
    char err[200] = "";

    fake_start(f);
    assert_int_equal(vfio_client_new(f->cfd, &o, &c, err, sizeof(err)), 0);
    return c;
}

static void finish(struct fake *f, struct vfio_client *c)
{
    fake_stop(f);
    vfio_client_free(c);
}

/* A sparse-mmap cap with @n areas followed by a type cap. */
static uint32_t build_caps(uint8_t *b, const uint64_t (*areas)[2],
                           uint32_t n, uint32_t next_override)
{
    struct vfio_region_info_cap_sparse_mmap s = {
        .header = {VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0}, .nr_areas = n,
    };
    struct vfio_region_info_cap_type t = {
        .header = {VFIO_REGION_INFO_CAP_TYPE, 1, 0}, .type = 3, .subtype = 1,
    };
    uint32_t len = sizeof(s) + n * 16;

    s.header.next = next_override ? next_override : 32 + len;
    memcpy(b, &s, sizeof(s));
    for (uint32_t i = 0; i < n; i++) {
        struct vfio_region_sparse_mmap_area a = {areas[i][0], areas[i][1]};

        memcpy(b + sizeof(s) + i * 16, &a, 16);
    }
    memcpy(b + len, &t, sizeof(t));
    return len + sizeof(t);
}

static void test_region_sparse(void **state)
{
    static const uint64_t areas[2][2] = {{0, 0x1000}, {0x3000, 0x1000}};
    uint8_t caps[256];
    struct vfio_client_region ri;
    struct fake f;
    struct vfio_client *c;
    int memfd = eventfd(0, 0); /* any fd will do */

    (void)state;
    fake_init(&f);
    f.rsize[2] = 0x4000;
    f.rflags[2] = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP;
    f.rfd[2] = memfd;
    f.rcaps[2] = caps;
    f.rcaps_len[2] = build_caps(caps, areas, 2, 0);
    c = connect_fake(&f);
    assert_int_equal(vfio_client_region_info(c, 2, &ri), 0);
    assert_int_equal(ri.size, 0x4000);
    assert_true(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
    assert_true(ri.fd >= 0);
    assert_true(ri.has_sparse);
    assert_int_equal(ri.nsparse, 2);
    assert_int_equal(ri.sparse[1].offset, 0x3000);
    assert_true(ri.has_type);
    assert_int_equal(ri.type, 3);
    close(ri.fd);
    /* No fd: MMAP is dropped, not trusted. */
    f.rfd[2] = -1;
    assert_int_equal(vfio_client_region_info(c, 2, &ri), 0);
    assert_false(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
    assert_int_equal(ri.fd, -1);
    finish(&f, c);
    close(memfd);
}

/* libvfio-user sends the region's fd once per sparse area: accepted when
 * every fd names the same file (mapped through the first), refused when
 * one names another file.
 * (Before: any second fd failed the device, "more fds than max_msg_fds".) */
static void test_region_fd_per_area(void **state)
{
    static const uint64_t areas[2][2] = {{0, 0x1000}, {0x2000, 0x1000}};
    uint8_t caps[256];
    struct vfio_client_region ri;
    struct fake f;
    struct vfio_client *c;
    int memfd = memfd_create("r1", 0), other = memfd_create("r1b", 0);
    struct stat a, b;

    (void)state;
    fake_init(&f);
    f.rsize[1] = 0x3000;
    f.rflags[1] = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP;
    f.rcaps[1] = caps;
    f.rcaps_len[1] = build_caps(caps, areas, 2, 0);
    f.rfd_list[1][0] = f.rfd_list[1][1] = memfd;
    f.rfd_n[1] = 2;
    c = connect_fake(&f);
    assert_int_equal(vfio_client_region_info(c, 1, &ri), 0);
    assert_true(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
    assert_int_equal(ri.nsparse, 2);
    assert_int_equal(fstat(ri.fd, &a), 0);
    assert_int_equal(fstat(memfd, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    close(ri.fd);
    assert_false(vfio_client_failed(c));
    f.rfd_list[1][1] = other;
    assert_int_equal(vfio_client_region_info(c, 1, &ri), -EPROTO);
    assert_true(vfio_client_failed(c));
    finish(&f, c);
    close(memfd);
    close(other);
}

static void bad_region(const uint64_t (*areas)[2], uint32_t n,
                       uint32_t next, uint64_t size, uint32_t nr_override)
{
    uint8_t caps[256];
    struct vfio_client_region ri;
    struct fake f;
    struct vfio_client *c;

    fake_init(&f);
    f.rsize[2] = size;
    f.rflags[2] = VFIO_REGION_INFO_FLAG_READ;
    f.rcaps[2] = caps;
    f.rcaps_len[2] = build_caps(caps, areas, n, next);
    if (nr_override)
        memcpy(caps + 8, &nr_override, 4);
    c = connect_fake(&f);
    assert_int_equal(vfio_client_region_info(c, 2, &ri), -EPROTO);
    assert_true(vfio_client_failed(c));
    finish(&f, c);
}

static void test_region_lies(void **state)
{
    static const uint64_t beyond[1][2] = {{0x3000, 0x2000}};
    static const uint64_t wrap[1][2] = {{0x1000, ~0ull - 0xfff}};
    static const uint64_t unaligned[1][2] = {{0x800, 0x1000}};
    static const uint64_t ok[1][2] = {{0, 0x1000}};

    (void)state;
    bad_region(beyond, 1, 0, 0x4000, 0);
    bad_region(wrap, 1, 0, 0x4000, 0);
    bad_region(unaligned, 1, 0, 0x4000, 0);
    bad_region(ok, 1, 32, 0x4000, 0);    /* chain loops to itself */
    bad_region(ok, 1, 4000, 0x4000, 0);  /* next beyond the reply */
    bad_region(ok, 1, 0, 1ull << 60, 0); /* absurd region size */
    bad_region(ok, 1, 0, 0x4000, 1000);  /* nr_areas beyond the reply */
}

/* io-fd reply with entries of @stride bytes: 40 = the spec's layout, 48 =
 * libvfio-user's (shadow_mem_fd_index at 28, shadow_offset at 32 holding
 * a decoy datamatch, datamatch at 40); other strides: 40-byte entries
 * followed by junk. */
static uint32_t build_iofds(uint8_t *b, uint32_t stride, uint32_t count,
                            const struct vfio_user_sub_region_ioeventfd *e)
{
    struct vfio_user_region_io_fds_reply h = {
        .argsz = 16 + stride * count, .index = 0, .count = count,
    };
    struct vfio_user_sub_region_ioeventfd_shadow sh;

    memset(b, 0xEE, 16 + stride * count); /* junk in the extra fields */
    memcpy(b, &h, sizeof(h));
    for (uint32_t i = 0; i < count; i++) {
        if (stride != 48) {
            memcpy(b + 16 + i * stride, &e[i], sizeof(e[i]));
            continue;
        }
        sh = (struct vfio_user_sub_region_ioeventfd_shadow){
            .offset = e[i].offset, .size = e[i].size,
            .fd_index = e[i].fd_index, .type = e[i].type,
            .flags = e[i].flags, .shadow_mem_fd_index = 0,
            .shadow_offset = e[i].datamatch + 1, /* decoy at offset 32 */
            .datamatch = e[i].datamatch,
        };
        memcpy(b + 16 + i * stride, &sh, sizeof(sh));
    }
    return h.argsz;
}

static void iofds_stride(uint32_t stride)
{
    const struct vfio_user_sub_region_ioeventfd e[3] = {
        {0x100, 4, 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD,
         KVM_IOEVENTFD_FLAG_DATAMATCH, 0, 7},
        {0x200, 2, 0, VFIO_USER_IO_FD_TYPE_IOREGIONFD, 0, 0, 0}, /* skip */
        {0x300, 0, 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD, 0, 0, 0},
    };
    uint8_t buf[16 + 3 * 64];
    struct vfio_client_iofds io;
    struct fake f;
    struct vfio_client *c;

    fake_init(&f);
    f.iofd_efd = eventfd(0, 0);
    f.iofds = buf;
    f.iofds_len = build_iofds(buf, stride, 3, e);
    c = connect_fake(&f);
    assert_int_equal(vfio_client_region_io_fds(c, 0, 4096, &io), 0);
    assert_int_equal(io.stride, stride);
    assert_int_equal(io.n, 2);
    assert_int_equal(io.e[0].offset, 0x100);
    assert_int_equal(io.e[0].size, 4);
    assert_int_equal(io.e[0].datamatch, 7);
    assert_true(io.e[0].flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
    assert_int_equal(io.e[1].offset, 0x300);
    assert_true(io.e[1].fd >= 0);
    vfio_client_iofds_close(&io);
    assert_false(vfio_client_failed(c));
    finish(&f, c);
}

static void test_iofds_40(void **state)
{
    (void)state;
    iofds_stride(40);
}

static void test_iofds_48(void **state)
{
    (void)state;
    iofds_stride(48);
}

static void bad_iofds(const struct vfio_user_sub_region_ioeventfd *e,
                      uint32_t stride, uint32_t argsz_delta, bool with_fd)
{
    uint8_t buf[256];
    struct vfio_client_iofds io;
    struct fake f;
    struct vfio_client *c;
    uint32_t argsz;

    fake_init(&f);
    f.iofd_efd = with_fd ? eventfd(0, 0) : -1;
    f.iofds = buf;
    f.iofds_len = build_iofds(buf, stride, 1, e);
    argsz = f.iofds_len + argsz_delta;
    memcpy(buf, &argsz, 4);
    c = connect_fake(&f);
    assert_int_equal(vfio_client_region_io_fds(c, 0, 4096, &io), -EPROTO);
    assert_true(vfio_client_failed(c));
    finish(&f, c);
}

static void test_iofds_lies(void **state)
{
    const struct vfio_user_sub_region_ioeventfd ok = {
        0x100, 4, 0, VFIO_USER_IO_FD_TYPE_IOEVENTFD, 0, 0, 0};
    struct vfio_user_sub_region_ioeventfd e = ok;

    (void)state;
    e.offset = 4094; /* 4 bytes past a 4 KiB region */
    bad_iofds(&e, 40, 0, true);
    e = ok;
    e.fd_index = 1;
    bad_iofds(&e, 40, 0, true);
    bad_iofds(&ok, 40, 0, false);  /* entries but no fd */
    bad_iofds(&ok, 32, 0, true);   /* stride below 40 */
    bad_iofds(&ok, 44, 0, true);   /* neither 40 nor 48 */
    bad_iofds(&ok, 56, 0, true);
    bad_iofds(&ok, 40, 1000, true); /* argsz beyond the reply */
}

static int hook_irq_count(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_irq_info ii;

    if (m->hdr.cmd != VFIO_USER_DEVICE_GET_IRQ_INFO)
        return 0;
    memcpy(&ii, m->payload, sizeof(ii));
    ii.count = f->user ? 1u << 20 : 2;
    ii.index += f->user ? 0 : 1; /* wrong index echoed */
    fake_reply(f, m, &ii, sizeof(ii), NULL, 0);
    return 1;
}

static void test_irq_info(void **state)
{
    struct vfio_irq_info ii;
    struct fake f;
    struct vfio_client *c;

    (void)state;
    fake_init(&f);
    c = connect_fake(&f);
    assert_int_equal(vfio_client_irq_info(c, VFIO_PCI_MSIX_IRQ_INDEX, &ii),
                     0);
    assert_int_equal(ii.count, 4);
    finish(&f, c);
    for (int mode = 0; mode < 2; mode++) {
        fake_init(&f);
        f.hook = hook_irq_count;
        f.user = mode;
        c = connect_fake(&f);
        assert_int_equal(vfio_client_irq_info(c, 2, &ii), -EPROTO);
        finish(&f, c);
    }
}

static void test_set_irqs_chunks(void **state)
{
    int efd[4];
    struct fake f;
    struct vfio_client *c;

    (void)state;
    fake_init(&f);
    f.caps.max_msg_fds = 3; /* 4 eventfds: two messages */
    c = connect_fake(&f);
    for (int i = 0; i < 4; i++)
        efd[i] = eventfd(0, 0);
    assert_int_equal(vfio_client_set_irqs(c, VFIO_PCI_MSIX_IRQ_INDEX,
                                          VFIO_IRQ_SET_DATA_EVENTFD |
                                              VFIO_IRQ_SET_ACTION_TRIGGER,
                                          0, 4, efd),
                     0);
    assert_int_equal(f.n_setirqs, 2);
    assert_int_equal(f.last_irq_start, 3);
    assert_int_equal(f.last_irq_count, 1);
    /* The server's copy of vector 3 signals ours. */
    assert_int_equal(eventfd_write(f.irq_fds[3], 1), 0);
    assert_int_equal(eventfd_read(efd[3], &(eventfd_t){0}), 0);
    for (int i = 0; i < 4; i++)
        close(efd[i]);
    finish(&f, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_sparse),
        cmocka_unit_test(test_region_lies),
        cmocka_unit_test(test_region_fd_per_area),
        cmocka_unit_test(test_iofds_40),
        cmocka_unit_test(test_iofds_48),
        cmocka_unit_test(test_iofds_lies),
        cmocka_unit_test(test_irq_info),
        cmocka_unit_test(test_set_irqs_chunks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
