/* SPDX-License-Identifier: BSD-3-Clause */
/* Run control (minivmm/runctl.c) without KVM: no vCPU threads (the pause
 * rendezvous has none to wait for), fake registry entries that record
 * quiesce/resume order and can fail; run-state events through the sink. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "minivmm/runctl.h"
#include "minivmm/vcpu.h"
#include "vmm/devreg.h"

struct rec {
    char log[128];          /* "q:a q:b r:b r:a " */
    char events[128];       /* "running paused " */
};

struct dev {
    const char *name;
    struct rec *rec;
    int fail_quiesce;
    int fail_resume;
};

static void note(char *buf, size_t len, const char *a, const char *b)
{
    size_t n = strlen(buf);

    snprintf(buf + n, len - n, "%s%s ", a, b);
}

static int dev_quiesce(void *opaque)
{
    struct dev *d = opaque;

    note(d->rec->log, sizeof(d->rec->log), "q:", d->name);
    return d->fail_quiesce;
}

static int dev_resume(void *opaque)
{
    struct dev *d = opaque;

    note(d->rec->log, sizeof(d->rec->log), "r:", d->name);
    return d->fail_resume;
}

static int nop_save(void *opaque, void *fdt, int node)
{
    (void)opaque, (void)fdt, (void)node;
    return 0;
}

static int nop_load(void *opaque, const void *fdt, int node)
{
    (void)opaque, (void)fdt, (void)node;
    return 0;
}

static const struct state_ops nop_ops = { nop_save, nop_load };

static void on_state(void *opaque, const char *state)
{
    struct rec *r = opaque;

    note(r->events, sizeof(r->events), state, "");
}

struct fixture {
    struct rec rec;
    struct dev a, b;
    struct devreg *devs;
    struct vcpu_sync sync;
    struct vm_event_sink sink;
    struct runctl rc;
};

static int setup(void **state)
{
    static struct fixture f;
    struct devreg_entry e = { .state = &nop_ops, .quiesce = dev_quiesce,
                              .resume = dev_resume };
    struct runctl_env env = { .nvcpus = 0 };

    memset(&f, 0, sizeof(f));
    f.a = (struct dev){ .name = "a", .rec = &f.rec };
    f.b = (struct dev){ .name = "b", .rec = &f.rec };
    if (devreg_create(&f.devs) < 0)
        return -1;
    e.id = "a", e.opaque = &f.a;
    devreg_add(f.devs, &e);
    e.id = "b", e.opaque = &f.b;
    devreg_add(f.devs, &e);
    vcpu_sync_init(&f.sync);
    f.sink = (struct vm_event_sink){ on_state, NULL, &f.rec };
    env.sync = &f.sync;
    env.devs = f.devs;
    env.events = &f.sink;
    runctl_init(&f.rc, &env);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    devreg_destroy(f->devs);
    vcpu_sync_destroy(&f->sync);
    return 0;
}

static void test_pause_resume(void **state)
{
    struct fixture *f = *state;
    char err[128] = "";

    assert_string_equal(runctl_state_name(&f->rc), "created");
    assert_int_equal(runctl_pause(&f->rc, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "cannot pause while created"));
    runctl_started(&f->rc);
    assert_int_equal(runctl_pause(&f->rc, err, sizeof(err)), 0);
    assert_true(f->sync.pause);
    assert_true(f->rc.devices_quiesced);
    assert_int_equal(runctl_pause(&f->rc, err, sizeof(err)), 0); /* no-op */
    assert_int_equal(runctl_resume(&f->rc, err, sizeof(err)), 0);
    assert_false(f->sync.pause);
    /* Quiesce in registration order, resume in reverse; one event per
     * change of state. */
    assert_string_equal(f->rec.log, "q:a q:b r:b r:a ");
    assert_string_equal(f->rec.events, "running paused running ");
    runctl_stopping(&f->rc);
    assert_string_equal(runctl_state_name(&f->rc), "shutting-down");
    assert_int_equal(runctl_resume(&f->rc, err, sizeof(err)), -EBUSY);
}

/* A device that cannot quiesce: the ones already quiesced are resumed,
 * the vCPUs run again, the state does not change. */
static void test_quiesce_failure(void **state)
{
    struct fixture *f = *state;
    char err[128] = "";

    runctl_started(&f->rc);
    f->b.fail_quiesce = -EIO;
    assert_int_equal(runctl_pause(&f->rc, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "quiescing device b"));
    assert_false(f->sync.pause);
    assert_false(f->rc.devices_quiesced);
    assert_string_equal(f->rec.log, "q:a q:b r:b r:a ");
    assert_string_equal(runctl_state_name(&f->rc), "running");
}

/* After a snapshot: a device that cannot resume keeps the vCPUs parked;
 * start_guest runs them anyway (and reports the device). */
static void test_start_variants(void **state)
{
    struct fixture *f = *state;
    char err[128] = "";

    runctl_started(&f->rc);
    assert_int_equal(runctl_stop_guest(&f->rc, err, sizeof(err)), 0);
    f->a.fail_resume = -ENODEV;
    assert_int_equal(runctl_start_devices_first(&f->rc, err, sizeof(err)),
                     -ENODEV);
    assert_non_null(strstr(err, "resuming device a"));
    assert_true(f->sync.pause);
    assert_int_equal(runctl_start_guest(&f->rc, err, sizeof(err)), -ENODEV);
    assert_false(f->sync.pause);
    /* A snapshot in progress refuses pause and resume. */
    runctl_event(&f->rc, VM_EV_SNAPSHOT);
    assert_false(runctl_allowed(&f->rc, VM_EV_PAUSE));
    assert_int_equal(runctl_pause(&f->rc, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "while snapshotting"));
    runctl_event(&f->rc, VM_EV_SNAPSHOT_END);
    assert_string_equal(runctl_state_name(&f->rc), "running");
    assert_string_equal(f->rec.events, "running snapshotting running ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiesce_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_start_variants, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
