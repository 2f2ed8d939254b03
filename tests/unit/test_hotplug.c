/* SPDX-License-Identifier: BSD-3-Clause */
/* devices/hotplug.c: PCI hotplug and GED registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/hotplug.h"

struct fake {
    int edges;        /* rising edges seen */
    bool level;
    int ejects;       /* eject callbacks */
};

static int fake_set(void *opaque, uint32_t gsi, bool level)
{
    struct fake *f = opaque;

    assert_int_equal(gsi, 20);
    if (level && !f->level)
        f->edges++;
    f->level = level;
    return 0;
}

static const struct irq_ops fake_ops = { .set_level = fake_set };

static void on_eject(void *opaque)
{
    ((struct fake *)opaque)->ejects++;
}

static uint32_t rd(struct hotplug *hp, uint64_t off)
{
    uint32_t v;

    hotplug_bus_ops.read(hp, off, &v, 4);
    return v;
}

static void wr(struct hotplug *hp, uint64_t off, uint32_t v)
{
    hotplug_bus_ops.write(hp, off, &v, 4);
}

static struct hotplug *make(struct fake *f)
{
    struct hotplug_config c = { .irq = { &fake_ops, f }, .gsi = 20,
                                .eject = on_eject, .opaque = f };
    struct hotplug *hp;

    assert_int_equal(hotplug_create(&c, &hp), 0);
    return hp;
}

static void test_add_remove(void **state)
{
    struct fake f = { 0 };
    struct hotplug *hp = make(&f);

    (void)state;
    hotplug_set_present(hp, 1, true);
    assert_int_equal(f.edges, 0);
    hotplug_notify_added(hp, 3);
    assert_int_equal(f.edges, 1);
    assert_true(f.level);       /* level: held while GED is pending */
    hotplug_notify_added(hp, 4); /* no second edge while held */
    assert_int_equal(f.edges, 1);
    assert_int_equal(rd(hp, HOTPLUG_REG_GED), HOTPLUG_GED_PCI);
    assert_false(f.level);      /* the read cleared it: line released */
    assert_int_equal(rd(hp, HOTPLUG_REG_GED), 0); /* read clears */
    hotplug_request_eject(hp, 4);
    assert_int_equal(f.edges, 2);
    assert_int_equal(rd(hp, HOTPLUG_REG_GED), HOTPLUG_GED_PCI);
    assert_int_equal(rd(hp, HOTPLUG_REG_PCID), 0x10);
    assert_int_equal(rd(hp, HOTPLUG_REG_PRES), 0x1A);
    assert_int_equal(rd(hp, HOTPLUG_REG_PCIU), 0x8);
    assert_int_equal(rd(hp, HOTPLUG_REG_PCIU), 0);
    hotplug_request_eject(hp, 3);
    assert_int_equal(f.edges, 3);
    assert_int_equal(rd(hp, HOTPLUG_REG_GED), HOTPLUG_GED_PCI);
    assert_int_equal(rd(hp, HOTPLUG_REG_PCID), 0x8);
    assert_int_equal(rd(hp, HOTPLUG_REG_PCID), 0);
    /* Ejecting an empty slot (or slot 0) is ignored. */
    wr(hp, HOTPLUG_REG_B0EJ, 0x21);
    assert_int_equal(f.ejects, 0);
    assert_int_equal(hotplug_take_ejects(hp), 0);
    wr(hp, HOTPLUG_REG_B0EJ, 0x8);
    assert_int_equal(f.ejects, 1);
    assert_int_equal(hotplug_take_ejects(hp), 0x8);
    assert_int_equal(hotplug_take_ejects(hp), 0);
    assert_int_equal(rd(hp, HOTPLUG_REG_PRES), 0x12);
    hotplug_destroy(hp);
}

static void test_power_and_bounds(void **state)
{
    struct fake f = { 0 };
    struct hotplug *hp = make(&f);
    uint8_t b[8];

    (void)state;
    hotplug_power_button(hp);
    assert_int_equal(f.edges, 1);
    hotplug_notify_added(hp, 31);
    assert_int_equal(rd(hp, HOTPLUG_REG_GED),
                     HOTPLUG_GED_POWER | HOTPLUG_GED_PCI);
    assert_false(f.level);
    /* A byte read of the top byte of PCIU: slot 31, and clears. */
    hotplug_bus_ops.read(hp, HOTPLUG_REG_PCIU + 3, b, 1);
    assert_int_equal(b[0], 0x80);
    assert_int_equal(rd(hp, HOTPLUG_REG_PCIU), 0);
    /* Out of range and straddling accesses read all-ones. */
    hotplug_bus_ops.read(hp, HOTPLUG_LEN, b, 4);
    assert_int_equal(b[0], 0xFF);
    hotplug_bus_ops.read(hp, 2, b, 4);
    assert_int_equal(b[3], 0xFF);
    hotplug_bus_ops.read(hp, 0, b, 8);
    assert_int_equal(b[7], 0xFF);
    /* Slot numbers out of range change nothing. */
    hotplug_notify_added(hp, 0);
    hotplug_notify_added(hp, 32);
    assert_int_equal(rd(hp, HOTPLUG_REG_PRES), 0x80000000u);
    hotplug_destroy(hp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_remove),
        cmocka_unit_test(test_power_and_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
