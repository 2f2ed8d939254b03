/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vfio/client*.c over a socketpair fake server: VERSION and
 * twin socket, region access split at max_data_xfer_size, posted writes,
 * WRITE_MULTI, DMA windows and DMA_READ served during a request (with and
 * without twin socket), concurrent requests answered out of order, reply
 * validation (wrong id, short, oversized, stray fds, error replies),
 * stalls and disconnects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "vfio/client/client.h"
#include "test_vfio_client_fake.h"

static int fail_calls;

static void on_fail(void *opaque)
{
    (void)opaque;
    fail_calls++;
}

static struct vfio_client *connect_fake(struct fake *f, unsigned int tmo)
{
    struct vfio_client_opts o = {.name = "t0", .timeout_ms = tmo,
                                 .on_fail = on_fail};
    struct vfio_client *c;
    char err[200] = "";
    int r;

    fake_start(f);
    r = vfio_client_new(f->cfd, &o, &c, err, sizeof(err));
    if (r)
        fprintf(stderr, "connect: %s\n", err);
    assert_int_equal(r, 0);
    return c;
}

static void finish(struct fake *f, struct vfio_client *c)
{
    fake_stop(f);
    vfio_client_free(c);
}

static void test_version_plain(void **state)
{
    struct fake f;
    struct vfio_client *c;
    struct vfio_client_dev_info di;

    (void)state;
    fake_init(&f);
    f.caps.max_data_xfer_size = 4096;
    c = connect_fake(&f, 2000);
    assert_false(vfio_client_twin(c));
    assert_int_equal(vfio_client_caps(c)->max_data_xfer_size, 4096);
    assert_true(vfio_client_caps(c)->write_multiple);
    assert_int_equal(vfio_client_device_info(c, &di), 0);
    assert_int_equal(di.num_regions, FAKE_REGIONS);
    assert_int_equal(di.num_irqs, 5);
    assert_true(di.flags & VFIO_DEVICE_FLAGS_PCI);
    finish(&f, c);
}

static void test_version_twin(void **state)
{
    struct fake f;
    struct vfio_client *c;

    (void)state;
    fake_init(&f);
    f.twin = true;
    c = connect_fake(&f, 2000);
    assert_true(vfio_client_twin(c));
    assert_int_equal(vfio_client_reset(c), 0);
    assert_int_equal(f.n_resets, 1);
    finish(&f, c);
}

/* A server that claims twin_socket but sends no fd: inconsistent. */
static int hook_twin_nofd(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_user_caps rep;
    void *p;
    size_t len;

    if (m->hdr.cmd != VFIO_USER_VERSION)
        return 0;
    fake_caps_default(&rep);
    rep.twin_fd_index = 0;
    vfio_user_version_encode(0, 1, &rep, &p, &len);
    fake_reply(f, m, p, len, NULL, 0);
    free(p);
    return 1;
}

static void test_version_inconsistent(void **state)
{
    struct vfio_client_opts o = {.name = "t0", .timeout_ms = 2000};
    struct vfio_client *c;
    struct fake f;
    char err[200] = "";

    (void)state;
    fake_init(&f);
    f.hook = hook_twin_nofd;
    fake_start(&f);
    assert_int_equal(vfio_client_new(f.cfd, &o, &c, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "twin"));
    assert_null(c);
    fake_stop(&f);
}

static void test_region_rw_split(void **state)
{
    struct fake f;
    struct vfio_client *c;
    uint8_t buf[300], back[300];

    (void)state;
    fake_init(&f);
    f.caps.max_data_xfer_size = 64;
    c = connect_fake(&f, 2000);
    for (int i = 0; i < 300; i++)
        buf[i] = (uint8_t)(i * 7);
    assert_int_equal(vfio_client_region_write(c, 0, 100, buf, 300, false),
                     0);
    assert_int_equal(f.n_writes, 5); /* 64 * 4 + 44 */
    assert_memory_equal(f.mem[0] + 100, buf, 300);
    assert_int_equal(vfio_client_region_read(c, 0, 100, back, 300), 0);
    assert_int_equal(f.n_reads, 5);
    assert_memory_equal(back, buf, 300);
    /* Posted: no reply; a later read is ordered after it. */
    buf[0] = 0xAB;
    assert_int_equal(vfio_client_region_write(c, 0, 0, buf, 1, true), 0);
    assert_int_equal(vfio_client_region_read(c, 0, 0, back, 1), 0);
    assert_int_equal(back[0], 0xAB);
    assert_false(vfio_client_failed(c));
    finish(&f, c);
}

static int hook_multi(struct fake *f, struct vfio_user_msg *m)
{
    struct vfio_user_write_multi h;
    struct vfio_user_write_multi_entry e;

    if (m->hdr.cmd != VFIO_USER_REGION_WRITE_MULTI)
        return 0;
    memcpy(&h, m->payload, sizeof(h));
    for (uint64_t i = 0; i < h.wr_cnt; i++) {
        memcpy(&e, (uint8_t *)m->payload + 8 + i * sizeof(e), sizeof(e));
        memcpy(f->mem[e.region] + e.offset, e.data, e.count);
    }
    f->user++;
    fake_reply(f, m, &h, sizeof(h), NULL, 0);
    return 1;
}

static void test_write_multi(void **state)
{
    struct vfio_client_write w[3] = {
        {0, 4, 0x10, {1, 2, 3, 4}},
        {0, 2, 0x20, {5, 6}},
        {7, 1, 0x04, {7}},
    };
    struct fake f;
    struct vfio_client *c;

    (void)state;
    fake_init(&f);
    f.hook = hook_multi;
    c = connect_fake(&f, 2000);
    assert_int_equal(vfio_client_write_multi(c, w, 3), 0);
    assert_int_equal(f.user, 1); /* one message */
    assert_int_equal(f.mem[0][0x13], 4);
    assert_int_equal(f.mem[0][0x21], 6);
    assert_int_equal(f.mem[7][0x04], 7);
    w[0].len = 9;
    assert_int_equal(vfio_client_write_multi(c, w, 1), -EINVAL);
    finish(&f, c);
}

/* During REGION_WRITE, the server reads guest memory before replying. */
static int hook_dma_in_write(struct fake *f, struct vfio_user_msg *m)
{
    if (m->hdr.cmd != VFIO_USER_REGION_WRITE)
        return 0;
    fake_dma_read(f, f->dma_addr, 16);
    fake_rw(f, m, true);
    return 1;
}

static void dma_during_request(bool twin)
{
    static uint8_t guest[8192];
    struct iommu_window w = {
        .iova = 0x100000, .size = sizeof(guest), .hva = guest, .fd = -1,
        .prot = IOMMU_PROT_READ,
    };
    struct vfio_client_stats st;
    struct vfio_client *c;
    struct fake f;
    uint32_t v = 1;

    fake_init(&f);
    f.twin = twin;
    f.hook = hook_dma_in_write;
    c = connect_fake(&f, 2000);
    assert_int_equal(vfio_client_twin(c), twin);
    memcpy(guest + 0x40, "hello, device!!", 16);
    assert_int_equal(vfio_client_dma_map(c, &w), 0);
    assert_int_equal(f.n_maps, 1);
    f.dma_addr = 0x100040;
    assert_int_equal(vfio_client_region_write(c, 0, 0, &v, 4, false), 0);
    assert_int_equal(f.dma_result, 0);
    assert_memory_equal(f.dma_buf, "hello, device!!", 16);
    /* Outside the window: an error reply, the device keeps working. */
    f.dma_addr = 0x100000 + sizeof(guest) - 8;
    assert_int_equal(vfio_client_region_write(c, 0, 0, &v, 4, false), 0);
    assert_int_equal(f.dma_result, -EFAULT);
    assert_false(vfio_client_failed(c));
    vfio_client_stats(c, &st);
    assert_int_equal(st.dma_reads, 1);
    assert_int_equal(vfio_client_dma_unmap(c, w.iova, w.size), 0);
    assert_int_equal(f.n_unmaps, 1);
    f.dma_addr = 0x100040;
    assert_int_equal(vfio_client_region_write(c, 0, 0, &v, 4, false), 0);
    assert_int_equal(f.dma_result, -EFAULT);
    finish(&f, c);
}

static void test_dma_during_request_main(void **state)
{
    (void)state;
    dma_during_request(false);
}

static void test_dma_during_request_twin(void **state)
{
    (void)state;
    dma_during_request(true);
}

/* Collect four reads, then answer them in reverse order. */
static struct vfio_user_msg held[4];
static uint8_t held_buf[4][64];

static int hook_reverse(struct fake *f, struct vfio_user_msg *m)
{
    if (m->hdr.cmd != VFIO_USER_REGION_READ)
        return 0;
    held[f->user].hdr = m->hdr;
    memcpy(held_buf[f->user], m->payload, m->payload_len);
    held[f->user].payload = held_buf[f->user];
    held[f->user].payload_len = m->payload_len;
    if (++f->user < 4)
        return 1;
    for (int i = 3; i >= 0; i--)
        fake_rw(f, &held[i], false);
    f->user = 0;
    return 1;
}

struct reader {
    struct vfio_client *c;
    uint32_t off;
    uint32_t val;
    int r;
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;

    rd->r = vfio_client_region_read(rd->c, 0, rd->off, &rd->val, 4);
    return NULL;
}

static void test_concurrent_out_of_order(void **state)
{
    struct reader rd[4];
    pthread_t th[4];
    struct vfio_client *c;
    struct fake f;

    (void)state;
    fake_init(&f);
    f.hook = hook_reverse;
    for (uint32_t i = 0; i < 4; i++)
        memcpy(f.mem[0] + 16 * i, &(uint32_t){0x1000 + i}, 4);
    c = connect_fake(&f, 3000);
    for (int i = 0; i < 4; i++) {
        rd[i] = (struct reader){.c = c, .off = 16 * (uint32_t)i};
        pthread_create(&th[i], NULL, reader_main, &rd[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(rd[i].r, 0);
        assert_int_equal(rd[i].val, 0x1000 + (uint32_t)i);
    }
    assert_false(vfio_client_failed(c));
    finish(&f, c);
}

/* ---- misbehaviour: each refuses the server and fails the device ---- */

static int bad_mode;

static int hook_bad(struct fake *f, struct vfio_user_msg *m)
{
    uint8_t buf[64] = {0};
    int efd;

    if (m->hdr.cmd != VFIO_USER_REGION_READ)
        return 0;
    memcpy(buf, m->payload, 16);
    switch (bad_mode) {
    case 0: /* wrong id */
        fake_raw(f, (uint16_t)(m->hdr.msg_id + 1), m->hdr.cmd,
                 VFIO_USER_F_TYPE_REPLY, buf, 20, NULL, 0);
        break;
    case 1: /* short: header + access struct, no data */
        fake_reply(f, m, buf, 16, NULL, 0);
        break;
    case 2: /* oversized: more data than asked for */
        fake_reply(f, m, buf, 40, NULL, 0);
        break;
    case 3: /* unexpected fd */
        efd = eventfd(0, 0);
        fake_reply(f, m, buf, 20, &efd, 1);
        close(efd);
        break;
    case 4: /* wrong count echoed */
        buf[12] = 3;
        fake_reply(f, m, buf, 19, NULL, 0);
        break;
    case 5: /* wrong command in the reply */
        fake_raw(f, m->hdr.msg_id, VFIO_USER_REGION_WRITE,
                 VFIO_USER_F_TYPE_REPLY, buf, 20, NULL, 0);
        break;
    case 6: /* stall */
        break;
    case 7: /* disconnect mid-request */
        shutdown(vfio_user_conn_fd(f->conn, VFIO_USER_CHAN_MAIN), SHUT_RDWR);
        break;
    case 8: /* garbage framing */
        fake_raw(f, m->hdr.msg_id, m->hdr.cmd, 0xff00, buf, 20, NULL, 0);
        break;
    }
    return 1;
}

static void test_bad_replies(void **state)
{
    static const int want[] = {-EPROTO, -EPROTO, -EPROTO, -EPROTO, -EPROTO,
                               -EPROTO, -ETIMEDOUT, -ENODEV, -ENODEV};
    uint32_t v = 0x5555;

    (void)state;
    for (bad_mode = 0; bad_mode < 9; bad_mode++) {
        struct fake f;
        struct vfio_client *c;
        int r;

        fake_init(&f);
        f.hook = hook_bad;
        fail_calls = 0;
        c = connect_fake(&f, 300);
        r = vfio_client_region_read(c, 0, 0, &v, 4);
        if (r != want[bad_mode] && !(r == -ENODEV && bad_mode != 6))
            fail_msg("mode %d: got %d want %d", bad_mode, r, want[bad_mode]);
        assert_true(vfio_client_failed(c));
        assert_int_equal(fail_calls, 1);
        /* Failed: everything returns -ENODEV at once. */
        assert_int_equal(vfio_client_region_read(c, 0, 0, &v, 4), -ENODEV);
        assert_int_equal(vfio_client_reset(c), -ENODEV);
        finish(&f, c);
    }
}

static int hook_error(struct fake *f, struct vfio_user_msg *m)
{
    (void)f;
    if (m->hdr.cmd != VFIO_USER_DEVICE_RESET)
        return 0;
    vfio_user_conn_send_error(f->conn, VFIO_USER_CHAN_MAIN, &m->hdr, EBUSY);
    return 1;
}

static void test_error_reply(void **state)
{
    struct fake f;
    struct vfio_client *c;

    (void)state;
    fake_init(&f);
    f.hook = hook_error;
    c = connect_fake(&f, 2000);
    assert_int_equal(vfio_client_reset(c), -EBUSY);
    assert_false(vfio_client_failed(c));
    /* Unsupported command: the fake's default error reply. */
    assert_int_equal(vfio_client_region_read(c, 12, 0, &(uint32_t){0}, 4),
                     -EINVAL);
    assert_false(vfio_client_failed(c));
    finish(&f, c);
}

/* An unsolicited reply with no request in flight (event loop path). */
static void test_unsolicited_reply(void **state)
{
    struct fake f;
    struct vfio_client *c;

    (void)state;
    fake_init(&f);
    c = connect_fake(&f, 2000);
    fail_calls = 0;
    fake_raw(&f, 999, VFIO_USER_REGION_READ, VFIO_USER_F_TYPE_REPLY, NULL, 0,
             NULL, 0);
    for (int i = 0; i < 100 && !vfio_client_failed(c); i++) {
        vfio_client_handle_ready(c);
        usleep(1000);
    }
    assert_true(vfio_client_failed(c));
    assert_int_equal(fail_calls, 1);
    finish(&f, c);
}

/* A server command arriving while nobody waits: the event loop serves. */
static void test_loop_serves_dma(void **state)
{
    static uint8_t guest[4096] = "abcdefghijklmnop";
    struct iommu_window w = {
        .iova = 0x200000, .size = 4096, .hva = guest, .fd = -1,
        .prot = IOMMU_PROT_READ | IOMMU_PROT_WRITE,
    };
    struct vfio_user_dma_access a = {0x200000, 16};
    struct vfio_user_expect exp;
    struct vfio_user_msg m = {0};
    uint8_t buf[64];
    struct fake f;
    struct vfio_client *c;
    uint16_t id;

    (void)state;
    fake_init(&f);
    f.twin = true;
    c = connect_fake(&f, 2000);
    assert_int_equal(vfio_client_dma_map(c, &w), 0);
    /* The fake's thread reads only MAIN; use the twin from here. */
    assert_int_equal(vfio_user_conn_send_command(f.conn, VFIO_USER_CHAN_TWIN,
                                                 VFIO_USER_DMA_READ, 0, &a,
                                                 sizeof(a), NULL, 0, &id),
                     0);
    for (int i = 0; i < 50; i++) {
        vfio_client_handle_ready(c);
        usleep(1000);
    }
    m.payload = buf;
    m.payload_cap = sizeof(buf);
    vfio_user_conn_expect_reply(f.conn, VFIO_USER_DMA_READ, id, &exp);
    assert_int_equal(vfio_user_conn_recv(f.conn, VFIO_USER_CHAN_TWIN, &exp,
                                         false, &m, NULL),
                     0);
    assert_memory_equal(buf + 16, "abcdefghijklmnop", 16);
    finish(&f, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_plain),
        cmocka_unit_test(test_version_twin),
        cmocka_unit_test(test_version_inconsistent),
        cmocka_unit_test(test_region_rw_split),
        cmocka_unit_test(test_write_multi),
        cmocka_unit_test(test_dma_during_request_main),
        cmocka_unit_test(test_dma_during_request_twin),
        cmocka_unit_test(test_concurrent_out_of_order),
        cmocka_unit_test(test_bad_replies),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_unsolicited_reply),
        cmocka_unit_test(test_loop_serves_dma),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
