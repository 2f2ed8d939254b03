/* SPDX-License-Identifier: BSD-3-Clause */
/* System control ports: i8042, reset control, test exit, ACPI sleep
 * (devices/sysctl.c), through a real port bus. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "devices/sysctl.h"
#include "vmm/bus.h"

struct fake_stop {
    int calls;
    enum vm_stop_reason reason;
    int status;
};

static void fake_request_stop(void *opaque, enum vm_stop_reason reason,
                              int status)
{
    struct fake_stop *f = opaque;

    f->calls++;
    f->reason = reason;
    f->status = status;
}

struct fixture {
    struct bus *pio;
    struct sysctl *sc;
    struct fake_stop stop;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sysctl_config cfg;

    assert_non_null(f);
    cfg.stop = (struct vm_stop_ctl){ fake_request_stop, &f->stop };
    assert_int_equal(bus_create("pio", &f->pio), 0);
    assert_int_equal(sysctl_create(&cfg, &f->sc), 0);
    assert_int_equal(sysctl_attach(f->sc, f->pio, true), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    sysctl_detach(f->sc, f->pio);
    bus_destroy(f->pio);
    sysctl_destroy(f->sc);
    free(f);
    return 0;
}

static uint32_t in(struct fixture *f, uint16_t port, uint32_t len)
{
    uint32_t v = 0;

    assert_int_equal(bus_dispatch(f->pio, port, &v, len, false), 0);
    return v;
}

static void out(struct fixture *f, uint16_t port, uint32_t v, uint32_t len)
{
    assert_int_equal(bus_dispatch(f->pio, port, &v, len, true), 0);
}

static void test_i8042(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(in(f, 0x64, 1), 0);
    assert_int_equal(in(f, 0x60, 1), 0);
    out(f, 0x64, 0x20, 1); /* read CTR: ignored */
    out(f, 0x60, 0xFE, 1); /* data port: not a reset */
    assert_int_equal(f->stop.calls, 0);
    out(f, 0x64, 0xFE, 1);
    assert_int_equal(f->stop.calls, 1);
    assert_int_equal(f->stop.reason, VM_STOP_RESET);
}

static void test_reset_control(void **state)
{
    struct fixture *f = *state;

    out(f, 0xCF9, 0x02, 1); /* SYS_RST only: armed, no reset */
    assert_int_equal(f->stop.calls, 0);
    assert_int_equal(in(f, 0xCF9, 1), 0x02);
    out(f, 0xCF9, 0x06, 1);
    assert_int_equal(f->stop.calls, 1);
    assert_int_equal(f->stop.reason, VM_STOP_RESET);
}

static void test_test_exit(void **state)
{
    struct fixture *f = *state;

    out(f, 0xF4, 0x07, 1);
    assert_int_equal(f->stop.reason, VM_STOP_TEST_EXIT);
    assert_int_equal(f->stop.status, 7);
    out(f, 0xF4, 0x1234, 2);
    assert_int_equal(f->stop.status, 0x34);
    out(f, 0xF4, 0xAABBCCFF, 4);
    assert_int_equal(f->stop.status, 0xFF);
    assert_int_equal(f->stop.calls, 3);
    out(f, 0xF5, 1, 1); /* not the port itself */
    assert_int_equal(f->stop.calls, 3);
    assert_int_equal(in(f, 0xF4, 1), 0xFF);
}

static void test_acpi_sleep(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(in(f, 0x601, 1), 0x80); /* WAK_STS at power on */
    out(f, 0x601, 0x80, 1);                  /* write 1 to clear */
    assert_int_equal(in(f, 0x601, 1), 0);
    out(f, 0x600, 5 << 2, 1);                /* SLP_TYP without SLP_EN */
    assert_int_equal(f->stop.calls, 0);
    out(f, 0x600, 0x20 | (3 << 2), 1);       /* S3: unsupported, wakes */
    assert_int_equal(f->stop.calls, 0);
    assert_int_equal(in(f, 0x601, 1), 0x80);
    assert_int_equal(in(f, 0x600, 1), 0);
    out(f, 0x600, 0x20 | (5 << 2), 1);       /* S5 */
    assert_int_equal(f->stop.calls, 1);
    assert_int_equal(f->stop.reason, VM_STOP_POWEROFF);
    out(f, 0x600, 0x8034, 2);                /* 16-bit: both bytes */
    assert_int_equal(f->stop.calls, 2);
}

static void test_attach_without_reset_port(void **state)
{
    struct fixture *f = *state;
    struct bus *pio;
    uint8_t v;

    assert_int_equal(bus_create("pio2", &pio), 0);
    assert_int_equal(sysctl_attach(f->sc, pio, false), 0);
    assert_int_equal(bus_dispatch(pio, 0xCF9, &v, 1, false), -ENOENT);
    sysctl_detach(f->sc, pio);
    assert_int_equal(bus_dispatch(pio, 0x64, &v, 1, false), -ENOENT);
    bus_destroy(pio);
    /* Conflicts unwind: the fixture's bus already holds every port. */
    assert_int_equal(sysctl_attach(f->sc, f->pio, true), -EEXIST);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    char fdt[1024];
    int node;

    out(f, 0xCF9, 0x0A, 1);
    out(f, 0x601, 0x80, 1);
    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "sysctl");
    assert_true(node >= 0);
    assert_int_equal(sysctl_state_ops.save(f->sc, fdt, node), 0);
    out(f, 0xCF9, 0x00, 1);
    out(f, 0x600, 0x20 | (1 << 2), 1); /* S1 sets WAK_STS */
    assert_int_equal(sysctl_state_ops.load(f->sc, fdt, node), 0);
    assert_int_equal(in(f, 0xCF9, 1), 0x0A);
    assert_int_equal(in(f, 0x601, 1), 0);
    assert_int_equal(state_put_u32(fdt, node, "sleep-status", 0x81), 0);
    assert_int_equal(sysctl_state_ops.load(f->sc, fdt, node), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_i8042, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_test_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acpi_sleep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_without_reset_port, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
