/* SPDX-License-Identifier: BSD-3-Clause */
/* The whole-VM state walk (minivmm/persist/vmstate.c) over a registry of
 * fake entries: tree layout (root entries before /devices), round trip,
 * and each refusal (missing node, extra device node, optional root node,
 * an entry refusing, a foreign tree). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "minivmm/persist/vmstate.h"
#include "vmm/devreg.h"
#include "vmm/state.h"

struct fake {
    uint32_t value;     /* saved as "v" */
    uint32_t loaded;
    int refuse;         /* load returns this when non-zero */
};

static int fake_save(void *opaque, void *fdt, int node)
{
    struct fake *f = opaque;

    return state_put_u32(fdt, node, "v", f->value);
}

static int fake_load(void *opaque, const void *fdt, int node)
{
    struct fake *f = opaque;

    if (f->refuse)
        return f->refuse;
    return state_get_u32(fdt, node, "v", &f->loaded);
}

static const struct state_ops fake_ops = { fake_save, fake_load };

static void add(struct devreg *r, const char *id, struct fake *f,
                unsigned int flags)
{
    struct devreg_entry e = { .id = id, .state = &fake_ops, .opaque = f,
                              .flags = flags };

    assert_int_equal(devreg_add(r, &e), 0);
}

/* A registry: device "dev0", root "vcpus", device "dev1", optional root
 * "irqchip" (registration order mixes them on purpose). */
static struct devreg *registry(struct fake f[4])
{
    struct devreg *r;

    assert_int_equal(devreg_create(&r), 0);
    add(r, "dev0", &f[0], 0);
    add(r, "vcpus", &f[1], DEVREG_F_ROOT);
    add(r, "dev1", &f[2], 0);
    add(r, "irqchip", &f[3], DEVREG_F_ROOT | DEVREG_F_OPTIONAL);
    return r;
}

static void test_layout_and_round_trip(void **state)
{
    struct fake f[4] = { { .value = 10 }, { .value = 11 }, { .value = 12 },
                         { .value = 13 } };
    struct devreg *r = registry(f);
    char err[256] = "";
    void *fdt = NULL;
    size_t len = 0;
    unsigned int cpus;
    uint64_t mem;
    int node, i = 0;
    /* Created config, vcpus, irqchip, devices (root entries first);
     * fdt_add_subnode() puts each new node before its elder siblings. */
    static const char *const order[] = { "devices", "irqchip", "vcpus",
                                         "config" };

    (void)state;
    assert_int_equal(vmstate_build(r, 2, 64u << 20, &fdt, &len, err,
                                   sizeof(err)), 0);
    assert_int_equal(fdt_check_full(fdt, len), 0);
    fdt_for_each_subnode(node, fdt, 0) {
        assert_true(i < 4);
        assert_string_equal(fdt_get_name(fdt, node, NULL), order[i++]);
    }
    assert_int_equal(i, 4);
    assert_true(fdt_path_offset(fdt, "/devices/dev0") >= 0);
    assert_true(fdt_path_offset(fdt, "/devices/dev1") >= 0);
    assert_true(fdt_path_offset(fdt, "/devices/vcpus") < 0);
    assert_int_equal(vmstate_config(fdt, &cpus, &mem, err, sizeof(err)), 0);
    assert_int_equal(cpus, 2);
    assert_int_equal(mem, 64u << 20);
    assert_int_equal(vmstate_load(r, fdt, err, sizeof(err)), 0);
    for (int k = 0; k < 4; k++)
        assert_int_equal(f[k].loaded, f[k].value);
    free(fdt);
    devreg_destroy(r);
}

static void test_refusals(void **state)
{
    struct fake f[4] = { { .value = 1 }, { .value = 2 }, { .value = 3 },
                         { .value = 4 } };
    struct fake extra = { .value = 5 };
    struct devreg *r = registry(f), *small;
    char err[256] = "";
    void *fdt = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(devreg_create(&small), 0);
    add(small, "vcpus", &f[1], DEVREG_F_ROOT);
    add(small, "dev0", &f[0], 0);
    add(small, "dev9", &extra, 0);
    assert_int_equal(vmstate_build(small, 1, 4096, &fdt, &len, err,
                                   sizeof(err)), 0);
    /* The full registry lacks dev9's node owner and misses dev1's node;
     * irqchip's node is absent but optional. */
    assert_int_equal(vmstate_load(r, fdt, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no state for device dev1"));
    devreg_del(r, "dev1");
    assert_int_equal(vmstate_load(r, fdt, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "has device dev9, which this VM lacks"));
    add(r, "dev9", &extra, 0);
    assert_int_equal(vmstate_load(r, fdt, err, sizeof(err)), 0);
    /* A refusing entry is named, with its errno. */
    f[1].refuse = -ERANGE;
    assert_int_equal(vmstate_load(r, fdt, err, sizeof(err)), -ERANGE);
    assert_non_null(strstr(err, "vcpus refused its state"));
    f[1].refuse = 0;
    free(fdt);
    /* A root entry that is not optional must have its node. */
    fdt = NULL;
    devreg_del(small, "vcpus");
    assert_int_equal(vmstate_build(small, 1, 4096, &fdt, &len, err,
                                   sizeof(err)), 0);
    assert_int_equal(vmstate_load(r, fdt, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "state tree has no /vcpus"));
    /* A foreign tree. */
    assert_int_equal(fdt_setprop_string(fdt, 0, "compatible", "other"), 0);
    assert_int_equal(vmstate_load(r, fdt, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "is not '" VMSTATE_COMPATIBLE "'"));
    free(fdt);
    devreg_destroy(small);
    devreg_destroy(r);
}

/* Too big for the largest tree: -ENOSPC and a reason, nothing leaked. */
static int big_save(void *opaque, void *fdt, int node)
{
    (void)opaque;
    (void)fdt;
    (void)node;
    return -ENOSPC;
}

static void test_too_big(void **state)
{
    static const struct state_ops big_ops = { big_save, fake_load };
    struct devreg_entry e = { .id = "big", .state = &big_ops };
    struct devreg *r;
    char err[256] = "";
    void *fdt = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(devreg_create(&r), 0);
    assert_int_equal(devreg_add(r, &e), 0);
    assert_int_equal(vmstate_build(r, 1, 4096, &fdt, &len, err,
                                   sizeof(err)), -ENOSPC);
    assert_non_null(strstr(err, "state tree larger than"));
    assert_null(fdt);
    devreg_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_too_big),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
