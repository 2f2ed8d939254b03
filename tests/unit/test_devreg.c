/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/devreg.c: registration (ids, ops, limits), lookup by
 * index, registration order across deletes, the quiesce/save/load/resume
 * walk a VM does over it (into a real state tree), migration blockers, and
 * concurrent registration. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "vmm/devreg.h"
#include "vmm/state.h"

/* A fake device: a value it saves and loads, and the calls it saw, in
 * order, in the shared journal. */
struct journal {
    char text[512];
};

struct fdev {
    const char *name;
    uint32_t value;
    int fail_quiesce; /* -errno returned by quiesce, 0: works */
    struct journal *j;
};

static void note(struct fdev *d, const char *what)
{
    size_t n = strlen(d->j->text);

    snprintf(d->j->text + n, sizeof(d->j->text) - n, "%s%s:%s",
             n ? " " : "", what, d->name);
}

static int fdev_save(void *opaque, void *fdt, int node)
{
    struct fdev *d = opaque;

    note(d, "save");
    return state_put_u32(fdt, node, "value", d->value);
}

static int fdev_load(void *opaque, const void *fdt, int node)
{
    struct fdev *d = opaque;
    uint32_t v;
    int r = state_get_u32(fdt, node, "value", &v);

    note(d, "load");
    if (r < 0)
        return r;
    d->value = v;
    return 0;
}

static int fdev_quiesce(void *opaque)
{
    struct fdev *d = opaque;

    note(d, "quiesce");
    return d->fail_quiesce;
}

static int fdev_resume(void *opaque)
{
    note(opaque, "resume");
    return 0;
}

static const struct state_ops fdev_ops = { fdev_save, fdev_load };
static const struct state_ops no_load_ops = { fdev_save, NULL };
static const struct state_ops no_save_ops = { NULL, fdev_load };

static struct devreg_entry entry(const char *id, struct fdev *d)
{
    return (struct devreg_entry){ .id = id, .state = &fdev_ops, .opaque = d,
                                  .quiesce = fdev_quiesce,
                                  .resume = fdev_resume };
}

static int setup(void **state)
{
    struct devreg *r;

    assert_int_equal(devreg_create(&r), 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    devreg_destroy(*state);
    return 0;
}

/* The ids registered, in order, joined by spaces. */
static const char *ids(struct devreg *r, char *buf, size_t len)
{
    struct devreg_entry e;
    char id[DEVREG_ID_MAX];

    buf[0] = '\0';
    for (unsigned int i = 0; i < devreg_count(r); i++) {
        assert_int_equal(devreg_get(r, i, &e, id), 0);
        assert_ptr_equal(e.id, id);
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? " " : "",
                 e.id);
    }
    return buf;
}

static void test_valid_id(void **state)
{
    char max[DEVREG_ID_MAX + 1];

    (void)state;
    assert_true(devreg_valid_id("virtio-blk@01.0"));
    assert_true(devreg_valid_id("a,b._+@-Z9"));
    assert_false(devreg_valid_id(NULL));
    assert_false(devreg_valid_id(""));
    assert_false(devreg_valid_id("has space"));
    assert_false(devreg_valid_id("slash/no"));
    assert_false(devreg_valid_id("colon:no"));
    assert_false(devreg_valid_id("nul\x01"));
    memset(max, 'x', sizeof(max));
    max[DEVREG_ID_MAX - 1] = '\0'; /* 47 characters: the longest */
    assert_true(devreg_valid_id(max));
    max[DEVREG_ID_MAX - 1] = 'x';
    max[DEVREG_ID_MAX] = '\0';     /* 48 */
    assert_false(devreg_valid_id(max));
}

static void test_add_errors(void **state)
{
    struct devreg *r = *state;
    struct journal j = { "" };
    struct fdev d = { "d", 1, 0, &j };
    struct devreg_entry e = entry("dev0", &d);

    e.state = NULL;
    assert_int_equal(devreg_add(r, &e), -EINVAL);
    e.state = &no_load_ops;
    assert_int_equal(devreg_add(r, &e), -EINVAL);
    e.state = &no_save_ops;
    assert_int_equal(devreg_add(r, &e), -EINVAL);
    e = entry("bad id", &d);
    assert_int_equal(devreg_add(r, &e), -EINVAL);
    e = entry(NULL, &d);
    assert_int_equal(devreg_add(r, &e), -EINVAL);
    assert_int_equal(devreg_count(r), 0);

    e = entry("dev0", &d);
    assert_int_equal(devreg_add(r, &e), 0);
    assert_int_equal(devreg_add(r, &e), -EEXIST);
    assert_int_equal(devreg_count(r), 1);
    assert_int_equal(devreg_del(r, "nope"), -ENOENT);
    assert_int_equal(devreg_count(r), 1);
    assert_string_equal(j.text, ""); /* registering calls nothing */
}

static void test_full(void **state)
{
    struct devreg *r = *state;
    struct journal j = { "" };
    struct fdev d = { "d", 1, 0, &j };
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;

    for (unsigned int i = 0; i < DEVREG_MAX; i++) {
        snprintf(id, sizeof(id), "dev%u", i);
        e = entry(id, &d);
        assert_int_equal(devreg_add(r, &e), 0);
    }
    e = entry("one-more", &d);
    assert_int_equal(devreg_add(r, &e), -ENOSPC);
    assert_int_equal(devreg_count(r), DEVREG_MAX);
    /* A free slot again after a delete. */
    assert_int_equal(devreg_del(r, "dev10"), 0);
    assert_int_equal(devreg_add(r, &e), 0);
    assert_int_equal(devreg_get(r, DEVREG_MAX - 1, &e, id), 0);
    assert_string_equal(id, "one-more");
    assert_int_equal(devreg_get(r, DEVREG_MAX, &e, id), -ENOENT);
}

static void test_copy_and_order(void **state)
{
    struct devreg *r = *state;
    struct journal j = { "" };
    struct fdev a = { "a", 1, 0, &j }, b = { "b", 2, 0, &j },
                c = { "c", 3, 0, &j };
    char name[DEVREG_ID_MAX], buf[128], id[DEVREG_ID_MAX];
    struct devreg_entry e;

    /* The id is copied: the caller's buffer may change afterwards. */
    snprintf(name, sizeof(name), "serial@3f8");
    e = entry(name, &a);
    assert_int_equal(devreg_add(r, &e), 0);
    memset(name, 'Z', sizeof(name) - 1);
    e = entry("virtio-blk@01.0", &b);
    assert_int_equal(devreg_add(r, &e), 0);
    e = entry("vfio-user@blk", &c);
    e.quiesce = NULL;
    e.resume = NULL;
    assert_int_equal(devreg_add(r, &e), 0);
    assert_string_equal(ids(r, buf, sizeof(buf)),
                        "serial@3f8 virtio-blk@01.0 vfio-user@blk");

    /* Entry 1 comes back as registered. */
    assert_int_equal(devreg_get(r, 1, &e, id), 0);
    assert_ptr_equal(e.opaque, &b);
    assert_ptr_equal(e.state, &fdev_ops);
    assert_ptr_equal(e.quiesce, fdev_quiesce);
    assert_ptr_equal(e.resume, fdev_resume);
    assert_null(e.dirty);
    assert_int_equal(devreg_get(r, 2, &e, id), 0);
    assert_null(e.quiesce);
    assert_null(e.resume);

    /* Deleting the middle keeps the others in order; re-adding appends. */
    assert_int_equal(devreg_del(r, "virtio-blk@01.0"), 0);
    assert_string_equal(ids(r, buf, sizeof(buf)),
                        "serial@3f8 vfio-user@blk");
    e = entry("virtio-blk@01.0", &b);
    assert_int_equal(devreg_add(r, &e), 0);
    assert_string_equal(ids(r, buf, sizeof(buf)),
                        "serial@3f8 vfio-user@blk virtio-blk@01.0");
    assert_int_equal(devreg_del(r, "serial@3f8"), 0);
    assert_int_equal(devreg_get(r, 0, &e, id), 0);
    assert_string_equal(e.id, "vfio-user@blk");
    assert_ptr_equal(e.opaque, &c);
}

/* What a VM does with every vCPU stopped: quiesce all in order, save each
 * into /devices/<id>, resume; restore loads by id. Stops at the first
 * quiesce that fails and resumes only what it quiesced. */
static int walk(struct devreg *r, bool stop, unsigned int upto)
{
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int ret;

    for (unsigned int i = 0; i < upto && i < devreg_count(r); i++) {
        assert_int_equal(devreg_get(r, i, &e, id), 0);
        devreg_fn fn = stop ? e.quiesce : e.resume;

        ret = fn ? fn(e.opaque) : 0;
        if (ret < 0)
            return (int)i;
    }
    return -1;
}

static void *save_tree(struct devreg *r)
{
    size_t len = 4096;
    void *fdt = malloc(len);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int devs, node;

    assert_non_null(fdt);
    assert_int_equal(fdt_create_empty_tree(fdt, (int)len), 0);
    devs = fdt_add_subnode(fdt, 0, "devices");
    assert_true(devs >= 0);
    for (unsigned int i = 0; i < devreg_count(r); i++) {
        assert_int_equal(devreg_get(r, i, &e, id), 0);
        node = fdt_add_subnode(fdt, devs, e.id);
        assert_true(node >= 0);
        assert_int_equal(e.state->save(e.opaque, fdt, node), 0);
    }
    return fdt;
}

static int load_tree(struct devreg *r, const void *fdt)
{
    char id[DEVREG_ID_MAX], path[80];
    struct devreg_entry e;

    for (unsigned int i = 0; i < devreg_count(r); i++) {
        int node, ret;

        assert_int_equal(devreg_get(r, i, &e, id), 0);
        snprintf(path, sizeof(path), "/devices/%s", e.id);
        node = fdt_path_offset(fdt, path);
        if (node < 0)
            return -ENOENT;
        ret = e.state->load(e.opaque, fdt, node);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static void test_walks(void **state)
{
    struct devreg *r = *state;
    struct journal j = { "" };
    struct fdev a = { "a", 0x11, 0, &j }, b = { "b", 0x22, 0, &j },
                c = { "c", 0x33, 0, &j };
    struct devreg_entry e;
    void *fdt;

    e = entry("dev-a", &a);
    assert_int_equal(devreg_add(r, &e), 0);
    e = entry("dev-b", &b);
    e.quiesce = NULL; /* optional: skipped */
    assert_int_equal(devreg_add(r, &e), 0);
    e = entry("dev-c", &c);
    assert_int_equal(devreg_add(r, &e), 0);

    assert_int_equal(walk(r, true, DEVREG_MAX), -1);
    fdt = save_tree(r);
    assert_int_equal(walk(r, false, DEVREG_MAX), -1);
    assert_string_equal(j.text, "quiesce:a quiesce:c save:a save:b save:c "
                                "resume:a resume:b resume:c");

    /* Load into the same devices, changed meanwhile: values come back. */
    a.value = b.value = c.value = 0;
    j.text[0] = '\0';
    assert_int_equal(load_tree(r, fdt), 0);
    assert_int_equal(a.value, 0x11);
    assert_int_equal(b.value, 0x22);
    assert_int_equal(c.value, 0x33);
    assert_string_equal(j.text, "load:a load:b load:c");

    /* A device the tree does not hold: the restore is refused. */
    e = entry("dev-d", &c);
    assert_int_equal(devreg_add(r, &e), 0);
    assert_int_equal(load_tree(r, fdt), -ENOENT);
    free(fdt);

    /* A quiesce that fails stops the walk there; only those before it are
     * resumed. */
    j.text[0] = '\0';
    c.fail_quiesce = -EBUSY;
    int at = walk(r, true, DEVREG_MAX);
    assert_int_equal(at, 2);
    assert_int_equal(walk(r, false, (unsigned int)at), -1);
    assert_string_equal(j.text, "quiesce:a quiesce:c resume:a resume:b");
}

static int dsync(void *opaque, uint64_t *bits, uint64_t npages,
                 uint64_t *count)
{
    (void)opaque;
    assert_true(npages >= 64);
    bits[0] |= 0x5;
    *count = 2;
    return 0;
}

static int dstart(void *opaque)
{
    (void)opaque;
    return 0;
}

static void test_dirty_ops(void **state)
{
    static const struct devreg_dirty_ops ops = { dstart, dsync, dstart };
    struct devreg *r = *state;
    struct journal j = { "" };
    struct fdev a = { "a", 1, 0, &j };
    struct devreg_entry e = entry("vfio-user@x", &a);
    char id[DEVREG_ID_MAX];
    uint64_t bits[1] = { 0 }, count = 0;

    e.dirty = &ops;
    assert_int_equal(devreg_add(r, &e), 0);
    memset(&e, 0, sizeof(e));
    assert_int_equal(devreg_get(r, 0, &e, id), 0);
    assert_ptr_equal(e.dirty, &ops);
    assert_int_equal(e.dirty->start(e.opaque), 0);
    assert_int_equal(e.dirty->sync(e.opaque, bits, 64, &count), 0);
    assert_int_equal(bits[0], 0x5);
    assert_int_equal(count, 2);
}

static void test_blockers(void **state)
{
    struct devreg *r = *state;
    char msg[256], longwhy[300];

    assert_int_equal(devreg_blocked(r, msg, sizeof(msg)), 0);
    assert_int_equal(devreg_add_blocker(r, "bad id", "x"), -EINVAL);
    assert_int_equal(devreg_add_blocker(r, NULL, "x"), -EINVAL);
    assert_int_equal(devreg_add_blocker(r, "vfio-user@evil", NULL), 0);
    assert_int_equal(devreg_blocked(r, msg, sizeof(msg)), -EOPNOTSUPP);
    assert_string_equal(msg, "device vfio-user@evil cannot be migrated: "
                             "no migration support");
    /* The first blocker is named; a delete of its id removes every one of
     * its blockers (not the registry entries of others). */
    memset(longwhy, 'w', sizeof(longwhy) - 1);
    longwhy[sizeof(longwhy) - 1] = '\0';
    assert_int_equal(devreg_add_blocker(r, "other", longwhy), 0);
    assert_int_equal(devreg_add_blocker(r, "vfio-user@evil", "again"), 0);
    assert_int_equal(devreg_del(r, "vfio-user@evil"), -ENOENT); /* no entry */
    assert_int_equal(devreg_blocked(r, msg, sizeof(msg)), -EOPNOTSUPP);
    assert_string_equal(msg + strlen(msg) - 3, "www");
    assert_int_equal(strlen(msg), strlen("device other cannot be migrated: ")
                                      + 127); /* why cut to 128 with NUL */
    /* A short message buffer is cut, NUL-terminated. */
    assert_int_equal(devreg_blocked(r, msg, 10), -EOPNOTSUPP);
    assert_string_equal(msg, "device ot");
    assert_int_equal(devreg_del(r, "other"), -ENOENT);
    assert_int_equal(devreg_blocked(r, msg, sizeof(msg)), 0);

    for (unsigned int i = 0; i < DEVREG_MAX; i++)
        assert_int_equal(devreg_add_blocker(r, "many", "x"), 0);
    assert_int_equal(devreg_add_blocker(r, "many", "x"), -ENOSPC);
    assert_int_equal(devreg_del(r, "many"), -ENOENT);
    assert_int_equal(devreg_blocked(r, msg, sizeof(msg)), 0);
}

struct adder {
    struct devreg *r;
    struct fdev *d;
    unsigned int base;
};

static void *add_many(void *opaque)
{
    struct adder *a = opaque;
    char id[DEVREG_ID_MAX];

    for (unsigned int i = 0; i < 16; i++) {
        struct devreg_entry e;

        snprintf(id, sizeof(id), "t%u", a->base + i);
        e = entry(id, a->d);
        if (devreg_add(a->r, &e) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct devreg *r = *state;
    struct journal j = { "" };
    struct fdev d = { "d", 1, 0, &j };
    struct adder a[4];
    pthread_t t[4];
    void *ret;

    for (unsigned int i = 0; i < 4; i++) {
        a[i] = (struct adder){ r, &d, i * 100 };
        assert_int_equal(pthread_create(&t[i], NULL, add_many, &a[i]), 0);
    }
    for (unsigned int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    assert_int_equal(devreg_count(r), 64);
    assert_int_equal(devreg_del(r, "t315"), 0);
    assert_int_equal(devreg_del(r, "t0"), 0);
    assert_int_equal(devreg_count(r), 62);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_id),
        cmocka_unit_test_setup_teardown(test_add_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blockers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
