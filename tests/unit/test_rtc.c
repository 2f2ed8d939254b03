/* SPDX-License-Identifier: BSD-3-Clause */
/* RTC/CMOS (devices/rtc.c) with a fake wall clock: time encoding (BCD or
 * binary, 12/24 h), UIP, SET, NMI bit, memory-size bytes, save/load. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libfdt.h>

#include "devices/rtc.h"
#include "vmm/bus.h"

#define NS 1000000000ULL

struct fixture {
    struct bus *pio;
    struct rtc *rtc;
    uint64_t now_ns;
};

static uint64_t fake_clock(void *opaque)
{
    return ((struct fixture *)opaque)->now_ns;
}

static uint64_t epoch_of(int y, int mon, int d, int h, int m, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = m, .tm_sec = s };

    return (uint64_t)timegm(&tm);
}

static int setup_ram(void **state, uint64_t below, uint64_t above)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct rtc_config cfg = { below, above, fake_clock, f };

    assert_non_null(f);
    /* 2024-02-29 13:45:56.5 UTC, a Thursday. */
    f->now_ns = epoch_of(2024, 2, 29, 13, 45, 56) * NS + NS / 2;
    assert_int_equal(bus_create("pio", &f->pio), 0);
    assert_int_equal(rtc_create(&cfg, &f->rtc), 0);
    assert_int_equal(bus_register(f->pio, RTC_PORT_BASE, RTC_PORT_LEN,
                                  &rtc_bus_ops, f->rtc), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_ram(state, 3ULL << 30, (1ULL << 30) + (1 << 16));
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    bus_destroy(f->pio);
    rtc_destroy(f->rtc);
    free(f);
    return 0;
}

static uint8_t cmos_read(struct fixture *f, uint8_t idx)
{
    uint8_t v = 0;

    assert_int_equal(bus_dispatch(f->pio, 0x70, &idx, 1, true), 0);
    assert_int_equal(bus_dispatch(f->pio, 0x71, &v, 1, false), 0);
    return v;
}

static void cmos_write(struct fixture *f, uint8_t idx, uint8_t v)
{
    assert_int_equal(bus_dispatch(f->pio, 0x70, &idx, 1, true), 0);
    assert_int_equal(bus_dispatch(f->pio, 0x71, &v, 1, true), 0);
}

static void test_time_bcd_24h(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(cmos_read(f, 0x0B), 0x02);
    assert_int_equal(cmos_read(f, 0x00), 0x56);
    assert_int_equal(cmos_read(f, 0x02), 0x45);
    assert_int_equal(cmos_read(f, 0x04), 0x13);
    assert_int_equal(cmos_read(f, 0x06), 5); /* Thursday */
    assert_int_equal(cmos_read(f, 0x07), 0x29);
    assert_int_equal(cmos_read(f, 0x08), 0x02);
    assert_int_equal(cmos_read(f, 0x09), 0x24);
    assert_int_equal(cmos_read(f, 0x32), 0x20);
    f->now_ns += 5 * NS; /* the clock runs */
    assert_int_equal(cmos_read(f, 0x00), 0x01);
    assert_int_equal(cmos_read(f, 0x02), 0x46);
}

static void test_time_binary_12h(void **state)
{
    struct fixture *f = *state;

    cmos_write(f, 0x0B, 0x04); /* binary, 12 h */
    assert_int_equal(cmos_read(f, 0x00), 56);
    assert_int_equal(cmos_read(f, 0x04), 0x80 | 1); /* 1 PM */
    assert_int_equal(cmos_read(f, 0x09), 24);
    f->now_ns = epoch_of(2024, 3, 1, 0, 30, 0) * NS;
    assert_int_equal(cmos_read(f, 0x04), 12); /* 12 AM */
    cmos_write(f, 0x0B, 0x00);                 /* BCD, 12 h */
    f->now_ns = epoch_of(2024, 3, 1, 23, 0, 0) * NS;
    assert_int_equal(cmos_read(f, 0x04), 0x80 | 0x11);
}

static void test_uip_and_status(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(cmos_read(f, 0x0A), 0x26);
    f->now_ns = f->now_ns / NS * NS + NS - 100000;
    assert_int_equal(cmos_read(f, 0x0A), 0xA6);
    cmos_write(f, 0x0A, 0xA5);                 /* UIP is read-only */
    f->now_ns = f->now_ns / NS * NS + 1000;
    assert_int_equal(cmos_read(f, 0x0A), 0x25);
    assert_int_equal(cmos_read(f, 0x0C), 0);
    cmos_write(f, 0x0D, 0);
    assert_int_equal(cmos_read(f, 0x0D), 0x80); /* VRT */
}

static void test_set_time(void **state)
{
    struct fixture *f = *state;

    cmos_write(f, 0x0B, 0x82); /* SET: frozen */
    f->now_ns += 3 * NS;
    assert_int_equal(cmos_read(f, 0x00), 0x56);
    assert_int_equal(cmos_read(f, 0x0A) & 0x80, 0);
    cmos_write(f, 0x00, 0x00);
    cmos_write(f, 0x02, 0x00);
    cmos_write(f, 0x04, 0x00);
    cmos_write(f, 0x07, 0x01);
    cmos_write(f, 0x08, 0x01);
    cmos_write(f, 0x09, 0x00);
    cmos_write(f, 0x32, 0x20);
    cmos_write(f, 0x0B, 0x02); /* run from 2000-01-01 00:00:00 */
    f->now_ns += 10 * NS;
    assert_int_equal(cmos_read(f, 0x00), 0x10);
    assert_int_equal(cmos_read(f, 0x09), 0x00);
    assert_int_equal(cmos_read(f, 0x06), 7); /* a Saturday */
    /* A direct write with SET clear takes effect at once. */
    cmos_write(f, 0x09, 0x99);
    assert_int_equal(cmos_read(f, 0x09), 0x99);
    assert_int_equal(cmos_read(f, 0x00), 0x10);
}

static void test_index_nmi_scratch(void **state)
{
    struct fixture *f = *state;
    uint8_t v = 0;

    cmos_write(f, 0x80 | 0x40, 0x5A);
    assert_true(rtc_nmi_disabled(f->rtc));
    assert_int_equal(cmos_read(f, 0x40), 0x5A);
    assert_false(rtc_nmi_disabled(f->rtc));
    assert_int_equal(bus_dispatch(f->pio, 0x70, &v, 1, false), 0);
    assert_int_equal(v, 0xFF);
}

static void test_memory_bytes(void **state)
{
    struct fixture *f = *state;
    uint32_t sum = 0;

    assert_int_equal(cmos_read(f, 0x15) | cmos_read(f, 0x16) << 8, 640);
    assert_int_equal(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, 0xFFFF);
    assert_int_equal(cmos_read(f, 0x30) | cmos_read(f, 0x31) << 8, 0xFFFF);
    /* (3 GiB - 16 MiB) / 64 KiB */
    assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, 0xBF00);
    /* (1 GiB + 64 KiB) / 64 KiB */
    assert_int_equal(cmos_read(f, 0x5B) | cmos_read(f, 0x5C) << 8 |
                         cmos_read(f, 0x5D) << 16, 0x4001);
    for (uint8_t i = 0x10; i <= 0x2D; i++)
        sum += cmos_read(f, i);
    assert_int_equal(cmos_read(f, 0x2E) << 8 | cmos_read(f, 0x2F), sum);
}

static void test_memory_small(void **state)
{
    struct fixture *f;

    (void)state;
    setup_ram((void **)&f, 8 << 20, 0);
    assert_int_equal(cmos_read(f, 0x30) | cmos_read(f, 0x31) << 8, 7168);
    assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, 0);
    assert_int_equal(cmos_read(f, 0x5B), 0);
    teardown((void **)&f);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state, *g;
    char fdt[1024];
    int node;

    cmos_write(f, 0x09, 0x30); /* year 2030 */
    cmos_write(f, 0x40, 0x77);
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "rtc");
    assert_true(node >= 0);
    assert_int_equal(rtc_state_ops.save(f->rtc, fdt, node), 0);
    setup_ram((void **)&g, 1 << 30, 0);
    assert_int_equal(rtc_state_ops.load(g->rtc, fdt, node), 0);
    assert_int_equal(cmos_read(g, 0x09), 0x30);
    assert_int_equal(cmos_read(g, 0x00), 0x56);
    assert_int_equal(cmos_read(g, 0x40), 0x77);
    assert_int_equal(state_put_u32(fdt, node, "index", 0x100), 0);
    assert_int_equal(rtc_state_ops.load(g->rtc, fdt, node), -EINVAL);
    fdt_delprop(fdt, node, "cmos");
    assert_int_equal(rtc_state_ops.load(g->rtc, fdt, node), -ENOENT);
    teardown((void **)&g);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_time_bcd_24h),      T(test_time_binary_12h),
        T(test_uip_and_status),    T(test_set_time),
        T(test_index_nmi_scratch), T(test_memory_bytes),
        T(test_memory_small),      T(test_save_load),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
