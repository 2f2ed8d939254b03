/* SPDX-License-Identifier: BSD-3-Clause */
/* Live migration: the phase table (vmm/migration_fsm.c), URIs
 * (vmm/migration_net.c) and the stream (vmm/migration_send.c written
 * through a socketpair, vmm/migration_fmt.c parsing it back). */
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "minivmm/config.h"
#include "vmm/memory.h"
#include "minivmm/persist/migration_fmt.h"
#include "minivmm/persist/migration_fsm.h"
#include "minivmm/persist/migration_net.h"
#include "minivmm/persist/migration_send.h"

static void test_fsm_success_path(void **state)
{
    static const enum mig_event path[] = {
        MIG_E_START, MIG_E_CONNECTED, MIG_E_CONVERGED, MIG_E_STOPPED,
        MIG_E_ACKED,
    };
    static const enum mig_state want[] = {
        MIG_S_SETUP, MIG_S_PRECOPY, MIG_S_STOPPING, MIG_S_COMPLETING,
        MIG_S_COMPLETED,
    };
    enum mig_state s = MIG_S_NONE;

    (void)state;
    for (unsigned int i = 0; i < 5; i++) {
        assert_int_equal(mig_fsm_next(s, path[i], &s), 0);
        assert_int_equal(s, want[i]);
        assert_int_equal(mig_fsm_guest_stopped(s),
                         s == MIG_S_STOPPING || s == MIG_S_COMPLETING);
    }
    assert_false(mig_fsm_active(s));
    /* Another migration may start after any final state. */
    assert_int_equal(mig_fsm_next(s, MIG_E_START, &s), 0);
}

/* Every (state, event) pair: only the documented arcs exist. */
static void test_fsm_table(void **state)
{
    (void)state;
    for (int s = 0; s < MIG_S_COUNT; s++) {
        bool active = s >= MIG_S_SETUP && s <= MIG_S_COMPLETING;

        assert_int_equal(mig_fsm_active((enum mig_state)s), active);
        assert_string_not_equal(mig_fsm_name((enum mig_state)s), "?");
        for (int e = 0; e < MIG_E_COUNT; e++) {
            enum mig_state n = MIG_S_COUNT;
            int r = mig_fsm_next((enum mig_state)s, (enum mig_event)e, &n);
            bool ok;

            switch (e) {
            case MIG_E_START:
                ok = !active;
                break;
            case MIG_E_ERROR:
            case MIG_E_CANCELLED:
                ok = active;
                break;
            default:
                ok = (e == MIG_E_CONNECTED && s == MIG_S_SETUP) ||
                     (e == MIG_E_CONVERGED && s == MIG_S_PRECOPY) ||
                     (e == MIG_E_STOPPED && s == MIG_S_STOPPING) ||
                     (e == MIG_E_ACKED && s == MIG_S_COMPLETING) ||
                     (e == MIG_E_NO_ANSWER && s == MIG_S_COMPLETING);
            }
            assert_int_equal(r, ok ? 0 : -EBUSY);
            if (!ok)
                assert_int_equal(n, MIG_S_COUNT);
        }
    }
    assert_int_equal(mig_fsm_next(MIG_S_COUNT, MIG_E_START, NULL), -EBUSY);
    assert_string_equal(mig_fsm_name(MIG_S_COUNT), "?");
    assert_string_equal(mig_fsm_event_name(MIG_E_ACKED), "acked");
    /* In doubt is final (the guest is paused, not migrating). */
    assert_false(mig_fsm_active(MIG_S_IN_DOUBT));
    assert_string_equal(mig_fsm_name(MIG_S_IN_DOUBT), "in-doubt");
}

static void test_uri(void **state)
{
    struct mig_uri u;
    char err[256];

    (void)state;
    assert_int_equal(mig_uri_parse("unix:/tmp/x", &u, err, sizeof(err)), 0);
    assert_int_equal(u.kind, MIG_UNIX);
    assert_string_equal(u.path, "/tmp/x");
    assert_int_equal(mig_uri_parse("tcp:10.0.0.2:4444", &u, err,
                                   sizeof(err)), 0);
    assert_int_equal(u.kind, MIG_TCP);
    assert_string_equal(u.host, "10.0.0.2");
    assert_string_equal(u.port, "4444");
    assert_int_equal(mig_uri_parse("tcp:[::1]:80", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "::1");
    static const char *const bad[] = {
        "unix:", "tcp:host", "tcp::80", "tcp:h:0", "tcp:h:65536",
        "tcp:h:8x", "file:/x", "", "unix", "tcp:h:",
    };
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(mig_uri_parse(bad[i], &u, err, sizeof(err)),
                         -EINVAL);
        assert_true(err[0] != 0);
    }
}

/* --- the stream ------------------------------------------------------ */

#define RAM_PAGES 2048u     /* two windows */

struct sink {
    int fd;
    uint8_t *buf;
    size_t len, cap;
};

static void *drain(void *arg)
{
    struct sink *s = arg;
    ssize_t n;

    for (;;) {
        if (s->cap - s->len < 65536) {
            s->cap = s->cap * 2 + 65536;
            s->buf = realloc(s->buf, s->cap);
        }
        n = read(s->fd, s->buf + s->len, s->cap - s->len);
        if (n <= 0)
            return NULL;
        s->len += (size_t)n;
    }
}

struct seen {
    uint64_t ram_pages, dirty_pages, device_bytes;
    unsigned int states;
};

static int on_ram(void *opaque, uint32_t type, const struct snap_ram *r,
                  const uint8_t *pages)
{
    struct seen *s = opaque;

    (void)pages;
    if (type == SNAP_SEC_RAM)
        s->ram_pages += r->present;
    else
        s->dirty_pages += r->present;
    return 0;
}

static int on_device(void *opaque, const char *id, const uint8_t *data,
                     size_t len)
{
    struct seen *s = opaque;

    assert_string_equal(id, "vfio-user@03.0");
    assert_memory_equal(data, "precopy", len);
    s->device_bytes += len;
    return 0;
}

static int on_state(void *opaque, const void *fdt, size_t len)
{
    struct seen *s = opaque;

    assert_int_equal(fdt_check_full(fdt, len), 0);
    s->states++;
    return 0;
}

/* A stream of fake RAM (pages 1, 5 and 1500 non-zero): pass 1, a dirty
 * pass of pages 5 and 7, a device section, the state, END. */
static size_t make_stream(uint8_t **out)
{
    static uint8_t ram[RAM_PAGES * 4096];
    struct guest_memory mem = { .fd = -1, .ram_size = sizeof(ram),
                                .nregions = 1 };
    uint64_t bits[RAM_PAGES / 64] = { 0 }, sent;
    char fdt[256];
    struct sink s = { 0 };
    struct mig_tx tx;
    pthread_t t;
    int sv[2];

    mem.regions[0] = (struct guest_region){ .size = sizeof(ram), .hva = ram,
                                            .fd = -1 };
    ram[4096 + 7] = ram[5 * 4096] = ram[1500 * 4096 + 4095] = 1;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s.fd = sv[1];
    pthread_create(&t, NULL, drain, &s);
    assert_int_equal(mig_tx_init(&tx, sv[0], &mem), 0);
    assert_int_equal(mig_tx_header(&tx, 2), 0);
    assert_int_equal(mig_tx_ram_all(&tx), 0);
    assert_int_equal(tx.zero_pages, RAM_PAGES - 3);
    bits[0] = 1u << 5 | 1u << 7;
    assert_int_equal(mig_tx_ram_dirty(&tx, bits, &sent), 0);
    assert_int_equal(sent, 2);
    assert_int_equal(mig_tx_device(&tx, "vfio-user@03.0", "precopy", 7), 0);
    fdt_create_empty_tree(fdt, sizeof(fdt));
    fdt_pack(fdt);
    assert_int_equal(mig_tx_state_end(&tx, fdt, fdt_totalsize(fdt)), 0);
    mig_tx_fini(&tx);
    close(sv[0]);
    pthread_join(t, NULL);
    close(sv[1]);
    *out = s.buf;
    return s.len;
}

static void test_stream_roundtrip(void **state)
{
    struct seen seen = { 0 };
    struct mig_visitor v = { on_ram, on_device, on_state, &seen };
    char err[256] = "";
    uint8_t *buf;
    size_t len = make_stream(&buf);

    (void)state;
    if (mig_parse_buffer(buf, len, &v, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(seen.ram_pages, 3);
    assert_int_equal(seen.dirty_pages, 2);
    assert_int_equal(seen.device_bytes, 7);
    assert_int_equal(seen.states, 1);
    if (getenv("MIG_STREAM_OUT")) { /* seed for tests/fuzz */
        FILE *f = fopen(getenv("MIG_STREAM_OUT"), "wb");

        if (f) {
            fwrite(buf, 1, len, f);
            fclose(f);
        }
    }
    /* Cut anywhere: refused with a reason. */
    for (size_t cut = 0; cut < len; cut += 97) {
        err[0] = 0;
        assert_int_equal(mig_parse_buffer(buf, cut, NULL, err, sizeof(err)),
                         -EINVAL);
        assert_true(err[0] != 0);
    }
    /* A flipped byte anywhere: refused (checksums). */
    for (size_t i = 0; i < len; i += 61) {
        buf[i] ^= 0x10;
        assert_int_equal(mig_parse_buffer(buf, len, NULL, err, sizeof(err)),
                         -EINVAL);
        buf[i] ^= 0x10;
    }
    free(buf);
}

/* Order rules, through mig_rx_section on hand-made section headers. */
static void test_stream_order(void **state)
{
    struct snap_section s = { .length = SNAP_END_SIZE };
    uint8_t h[SNAP_HEADER_SIZE], sh[SNAP_SECTION_HEADER_SIZE];
    struct mig_rx rx;
    char err[256];

    (void)state;
    snap_header_encode(h, 0, 1 << 20);
    assert_int_equal(mig_rx_header(&rx, h, sizeof(h), err, sizeof(err)),
                     -EINVAL);  /* a snapshot, not a stream */
    snap_header_encode(h, MIG_F_STREAM, 1 << 20);
    assert_int_equal(mig_rx_header(&rx, h, sizeof(h), err, sizeof(err)), 0);
    s.type = SNAP_SEC_RAM;      /* CONFIG must come first */
    snap_section_encode(sh, &s);
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), -EINVAL);
    s.type = MIG_SEC_CONFIG;
    s.length = MIG_CONFIG_SIZE;
    snap_section_encode(sh, &s);
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), 0);
    s.index = 1;
    s.length = SNAP_END_SIZE;
    s.type = SNAP_SEC_END;      /* END before STATE */
    snap_section_encode(sh, &s);
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), -EINVAL);
    s.type = MIG_SEC_RAM_DIRTY; /* then first-pass RAM again: refused */
    s.length = SNAP_RAM_HEADER_SIZE + 8;
    snap_section_encode(sh, &s);
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), 0);
    s.type = SNAP_SEC_RAM;
    s.index = 2;
    snap_section_encode(sh, &s);
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), -EINVAL);
    s.type = 0x99;              /* unknown */
    snap_section_encode(sh, &s);
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), -EINVAL);
    assert_true(mig_ram_range_ok(1 << 20, 0, 1 << 20));
    assert_false(mig_ram_range_ok(1 << 20, 4096, 1 << 20));
    assert_true(mig_ram_range_ok(4ULL << 30, 1ULL << 32, 1ULL << 30));
    assert_false(mig_ram_range_ok(4ULL << 30, 3ULL << 30, 4096));
}

/* The stop notice (mig_tx_stopping): an empty RAM_DIRTY section with
 * the MIG_SEC_F_STOPPING flag; the receiver sees the flag, and takes it
 * as an empty pass (no pages), as one that ignores the flag would. */
static void test_stop_notice(void **state)
{
    struct snap_section s = { .type = MIG_SEC_CONFIG,
                              .length = MIG_CONFIG_SIZE };
    uint8_t h[SNAP_HEADER_SIZE], sh[SNAP_SECTION_HEADER_SIZE];
    uint8_t ram[SNAP_RAM_HEADER_SIZE + 8];
    uint64_t none = 0;
    struct snap_ram r;
    struct mig_rx rx;
    char err[256];

    (void)state;
    snap_header_encode(h, MIG_F_STREAM, 1 << 20);
    assert_int_equal(mig_rx_header(&rx, h, sizeof(h), err, sizeof(err)), 0);
    snap_section_encode(sh, &s);
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), 0);
    s = (struct snap_section){ .type = MIG_SEC_RAM_DIRTY, .index = 1,
                               .flags = MIG_SEC_F_STOPPING,
                               .length = sizeof(ram) };
    snap_section_encode(sh, &s);
    memset(&s, 0, sizeof(s));
    assert_int_equal(mig_rx_section(&rx, sh, &s, err, sizeof(err)), 0);
    assert_int_equal(s.type, MIG_SEC_RAM_DIRTY);
    assert_true(s.flags & MIG_SEC_F_STOPPING);
    snap_ram_encode(ram, 0, 1, &none);
    assert_int_equal(mig_rx_ram(&rx, &s, ram, sizeof(ram), &r, err,
                                sizeof(err)), 0);
    assert_int_equal(r.present, 0);
    assert_int_equal(rx.pages, 0);
}

static void test_reply(void **state)
{
    uint8_t buf[MIG_REPLY_SIZE];
    uint32_t st;
    char why[64];

    (void)state;
    mig_reply_encode(buf, 22, "device virtio-rng@rng0 missing");
    assert_int_equal(mig_reply_decode(buf, &st, why, sizeof(why)), 0);
    assert_int_equal(st, 22);
    assert_string_equal(why, "device virtio-rng@rng0 missing");
    memset(buf + 16, 'x', MIG_REPLY_SIZE - 16);     /* no NUL */
    assert_int_equal(mig_reply_decode(buf, &st, why, sizeof(why)), -EINVAL);
}

/* --incoming, --migrate-downtime-ms and --migrate-rt-boost
 * (vmm/config.c). */
static void test_config(void **state)
{
    char *ok[] = { "minivmm", "--incoming", "unix:/x", "--disk",
                   "path=/d", NULL };
    char *dt[] = { "minivmm", "--kernel", "k", "--migrate-downtime-ms",
                   "7", NULL };
    char *both[] = { "minivmm", "--incoming", "unix:/x", "--kernel", "k",
                     NULL };
    char *bad[] = { "minivmm", "--kernel", "k", "--migrate-downtime-ms",
                    "0", NULL };
    char *rt_off[] = { "minivmm", "--kernel", "k", "--migrate-rt-boost",
                       "off", NULL };
    char *rt_bad[] = { "minivmm", "--kernel", "k", "--migrate-rt-boost",
                       "yes", NULL };
    struct vm_config cfg;
    char err[256];

    (void)state;
    assert_int_equal(config_parse(5, ok, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.incoming, "unix:/x");
    assert_int_equal(cfg.migrate_downtime_ms, 0);
    assert_int_equal(config_parse(5, dt, &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.migrate_downtime_ms, 7);
    assert_false(cfg.migrate_rt_boost_off);
    assert_int_equal(config_parse(5, rt_off, &cfg, err, sizeof(err)), 0);
    assert_true(cfg.migrate_rt_boost_off);
    assert_int_equal(config_parse(5, rt_bad, &cfg, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "--migrate-rt-boost"));
    assert_int_equal(config_parse(5, both, &cfg, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "--incoming"));
    assert_int_equal(config_parse(5, bad, &cfg, err, sizeof(err)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsm_success_path),
        cmocka_unit_test(test_fsm_table),
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_stream_roundtrip),
        cmocka_unit_test(test_stream_order),
        cmocka_unit_test(test_stop_notice),
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
