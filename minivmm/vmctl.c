/* SPDX-License-Identifier: BSD-3-Clause */
/* VM control: run state, pause/resume, snapshot save and restore load
 * (see vmctl.h). */
#include "minivmm/vmctl.h"

#include <errno.h>
#include <json-c/json.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/x86/cpu_state.h"
#include "arch/x86/irqchip_state.h"
#include "minivmm/api.h"
#include "minivmm/config.h"
#include "vmm/devreg.h"
#include "vmm/memory.h"
#include "minivmm/persist/migration.h"
#include "vmm/runstate_fsm.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_outcome.h"
#include "minivmm/persist/snapshot_fmt.h"
#include "minivmm/vcpu.h"

#define STATE_COMPATIBLE VMCTL_STATE_COMPATIBLE
#define PAUSE_TIMEOUT_MS 5000
#define TREE_START (256u << 10)

struct vmctl {
    struct vmctl_env env;
    struct vm_runstate rs;
    bool devices_quiesced;
    struct api *api;
    struct migration *mig;      /* outgoing live migration */
    bool mig_stopped;           /* the migration stopped the guest */
};

static void set_state(struct vmctl *c, enum vm_run_event ev)
{
    enum vm_run_state before = c->rs.state;

    if (runstate_apply(&c->rs, ev) == 0 && c->rs.state != before && c->api)
        api_event(c->api, "state", "state", runstate_name(c->rs.state));
}

const char *vmctl_state_name(const struct vmctl *c)
{
    return runstate_name(c->rs.state);
}

/* Quiesce (@stop) or resume every registered device, in order (resume in
 * reverse). The first failure is reported; the walk goes on. */
static int walk_devices(struct vmctl *c, bool stop, char *err,
                        size_t errlen)
{
    unsigned int n = devreg_count(c->env.devs);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
    int ret = 0;

    for (unsigned int k = 0; k < n; k++) {
        unsigned int i = stop ? k : n - 1 - k;
        devreg_fn fn;
        int r;

        if (devreg_get(c->env.devs, i, &e, id) < 0)
            continue;
        fn = stop ? e.quiesce : e.resume;
        r = fn ? fn(e.opaque) : 0;
        if (r < 0 && ret == 0) {
            snprintf(err, errlen, "%s device %s: %s",
                     stop ? "quiescing" : "resuming", id, strerror(-r));
            ret = r;
        }
    }
    c->devices_quiesced = stop;
    return ret;
}

/* vCPUs then devices stopped. */
static int stop_guest(struct vmctl *c, char *err, size_t errlen)
{
    int r = vcpu_pause_all(c->env.vcpus, c->env.nvcpus, c->env.sync,
                           PAUSE_TIMEOUT_MS);

    if (r < 0) {
        snprintf(err, errlen, "vCPUs did not stop within %u ms",
                 PAUSE_TIMEOUT_MS);
        return r;
    }
    r = walk_devices(c, true, err, errlen);
    if (r < 0) {
        walk_devices(c, false, err, 0);
        vcpu_resume_all(c->env.sync);
    }
    return r;
}

static int start_guest(struct vmctl *c, char *err, size_t errlen)
{
    int r = walk_devices(c, false, err, errlen);

    vcpu_resume_all(c->env.sync);
    return r;
}

int vmctl_pause(struct vmctl *c, char *err, size_t errlen)
{
    int r;

    if (!runstate_allowed(c->rs.state, VM_EV_PAUSE)) {
        snprintf(err, errlen, "cannot pause while %s",
                 runstate_name(c->rs.state));
        return -EBUSY;
    }
    if (c->rs.state == VM_RS_PAUSED)
        return 0;
    r = stop_guest(c, err, errlen);
    if (r == 0)
        set_state(c, VM_EV_PAUSE);
    return r;
}

int vmctl_resume(struct vmctl *c, char *err, size_t errlen)
{
    int r;

    if (!runstate_allowed(c->rs.state, VM_EV_RESUME)) {
        snprintf(err, errlen, "cannot resume while %s",
                 runstate_name(c->rs.state));
        return -EBUSY;
    }
    if (c->rs.state == VM_RS_RUNNING)
        return 0;
    r = start_guest(c, err, errlen);
    set_state(c, VM_EV_RESUME);
    return r;
}

static int fdt_errno(int r)
{
    return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

/* Subnode @name of @parent: its offset or -errno. */
static int add_node(void *fdt, int parent, const char *name)
{
    int n = fdt_add_subnode(fdt, parent, name);

    return n < 0 ? fdt_errno(n) : n;
}

static int save_vcpus(struct vmctl *c, void *fdt, char *note,
                      size_t notelen)
{
    int vn = add_node(fdt, 0, "vcpus"), r = vn < 0 ? vn : 0;
    char name[32];

    for (unsigned int i = 0; r == 0 && i < c->env.nvcpus; i++) {
        int node;

        snprintf(name, sizeof(name), "cpu@%u", i);
        node = add_node(fdt, vn, name);
        r = node < 0 ? node :
            x86_cpu_state_save(c->env.kvm, c->env.vcpus[i].fd, fdt, node,
                               note, notelen);
    }
    return r;
}

static int save_devices(struct vmctl *c, void *fdt, char *err,
                        size_t errlen)
{
    int dn = add_node(fdt, 0, "devices"), r = dn < 0 ? dn : 0;
    unsigned int n = devreg_count(c->env.devs);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;

    for (unsigned int i = 0; r == 0 && i < n; i++) {
        int node;

        if (devreg_get(c->env.devs, i, &e, id) < 0)
            continue;
        node = add_node(fdt, dn, id);
        r = node < 0 ? node : e.state->save(e.opaque, fdt, node);
        if (r < 0 && r != -ENOSPC)
            snprintf(err, errlen, "saving device %s: %s", id, strerror(-r));
    }
    return r;
}

static int save_all(struct vmctl *c, void *fdt, char *note, size_t notelen,
                    char *err, size_t errlen)
{
    int cn, in, r;

    r = fdt_setprop_string(fdt, 0, "compatible", STATE_COMPATIBLE);
    if (r < 0)
        return fdt_errno(r);
    cn = add_node(fdt, 0, "config");
    if (cn < 0)
        return cn;
    if ((r = fdt_setprop_u32(fdt, cn, "cpus", c->env.nvcpus)) < 0 ||
        (r = fdt_setprop_u64(fdt, cn, "memory", c->env.mem->ram_size)) < 0)
        return fdt_errno(r);
    r = save_vcpus(c, fdt, note, notelen);
    if (r == 0) {
        in = add_node(fdt, 0, "irqchip");
        r = in < 0 ? in : x86_irqchip_state_save(c->env.kvm, fdt, in, note,
                                                 notelen);
    }
    if (r == 0)
        r = save_devices(c, fdt, err, errlen);
    if (r < 0 && r != -ENOSPC && !err[0])
        snprintf(err, errlen, "saving vCPU/irqchip state: %s",
                 strerror(-r));
    return r;
}

/* The whole state tree, grown until it fits. */
static int build_tree(struct vmctl *c, void **out, size_t *len, char *err,
                      size_t errlen)
{
    char note[512];

    for (size_t size = TREE_START; size <= SNAP_STATE_MAX; size *= 2) {
        void *fdt = malloc(size);
        int r;

        if (!fdt)
            return -ENOMEM;
        note[0] = err[0] = 0;
        r = fdt_create_empty_tree(fdt, (int)size);
        if (r == 0)
            r = save_all(c, fdt, note, sizeof(note), err, errlen);
        if (r == 0) {
            fdt_pack(fdt);
            *out = fdt;
            *len = fdt_totalsize(fdt);
            if (note[0])
                fprintf(stderr, "minivmm: note: not saved on this host: "
                        "%s\n", note);
            return 0;
        }
        free(fdt);
        if (r != -ENOSPC)
            return r;
    }
    snprintf(err, errlen, "state tree larger than %u MiB",
             SNAP_STATE_MAX >> 20);
    return -ENOSPC;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* After the snapshot: devices, then vCPUs only if every device resumed.
 * A device that cannot resume leaves the VM paused (the guest would
 * otherwise run against a stopped device). 0 or -errno (+ @err). */
static int snapshot_resume(struct vmctl *c, char *err, size_t errlen)
{
    int r = walk_devices(c, false, err, errlen);

    if (r == 0) {
        vcpu_resume_all(c->env.sync);
        return 0;
    }
    set_state(c, VM_EV_PAUSE);
    return r;
}

/* Report a failed snapshot (API reply in @err, and the log). */
static int snapshot_failed(struct vmctl *c, struct snap_outcome *o,
                           int r, char *err, size_t errlen)
{
    o->vm_state = runstate_name(c->rs.state);
    snap_outcome_text(o, err, errlen);
    fprintf(stderr, "minivmm: %s\n", err);
    return r;
}

int vmctl_snapshot(struct vmctl *c, const char *path, char *err,
                   size_t errlen)
{
    bool was_running = c->rs.state == VM_RS_RUNNING;
    struct snap_outcome o = { .path = path, .step = SNAP_STEP_STOP };
    struct snap_write_stats st;
    uint64_t t0 = now_us();
    void *fdt = NULL;
    size_t len = 0;
    char why[512] = "", rwhy[256] = "";
    int r = 0, rr = 0;

    if (!runstate_allowed(c->rs.state, VM_EV_SNAPSHOT)) {
        snprintf(err, errlen, "cannot snapshot while %s",
                 runstate_name(c->rs.state));
        return -EBUSY;
    }
    o.why = why;
    if (c->env.ram_ready &&
        (r = c->env.ram_ready(c->env.ram_opaque, why, sizeof(why))) < 0)
        return snapshot_failed(c, &o, r, err, errlen);
    if (was_running && (r = stop_guest(c, why, sizeof(why))) < 0)
        return snapshot_failed(c, &o, r, err, errlen);
    set_state(c, VM_EV_SNAPSHOT);
    o.step = SNAP_STEP_SAVE;
    r = build_tree(c, &fdt, &len, why, sizeof(why));
    if (r == 0) {
        o.step = SNAP_STEP_WRITE;
        r = snap_write_file(path, fdt, len, c->env.mem, &st, why,
                            sizeof(why));
    }
    free(fdt);
    o.file_written = r == 0;
    set_state(c, VM_EV_SNAPSHOT_END);
    if (was_running)
        rr = snapshot_resume(c, rwhy, sizeof(rwhy));
    if (r == 0 && rr < 0) {
        o.step = SNAP_STEP_RESUME;
        o.why = rwhy;
        r = -EIO;
    } else if (rr < 0) {
        o.resume_why = rwhy;
    }
    if (r < 0)
        return snapshot_failed(c, &o, r, err, errlen);
    fprintf(stderr, "minivmm: snapshot %s: %llu MiB, %llu pages, %llu "
            "zero pages skipped, %.1f ms\n", path,
            (unsigned long long)(st.bytes >> 20),
            (unsigned long long)st.pages, (unsigned long long)st.zero_pages,
            (double)(now_us() - t0) / 1000.0);
    return 0;
}

static int load_vcpus(struct vmctl *c, const void *fdt, char *err,
                      size_t errlen)
{
    int vn = fdt_subnode_offset(fdt, 0, "vcpus"), node, count = 0;
    char name[32], why[256];

    if (vn < 0) {
        snprintf(err, errlen, "state tree has no /vcpus");
        return -EINVAL;
    }
    fdt_for_each_subnode(node, fdt, vn)
        count++;
    if (count != (int)c->env.nvcpus) {
        snprintf(err, errlen, "state tree has %d vCPUs, the VM %u", count,
                 c->env.nvcpus);
        return -EINVAL;
    }
    for (unsigned int i = 0; i < c->env.nvcpus; i++) {
        int r;

        snprintf(name, sizeof(name), "cpu@%u", i);
        node = fdt_subnode_offset(fdt, vn, name);
        r = node < 0 ? -EINVAL :
            x86_cpu_state_load(c->env.vcpus[i].fd, fdt, node, why,
                               sizeof(why));
        if (r < 0) {
            snprintf(err, errlen, "vCPU %u: %s", i,
                     node < 0 ? "no state" : why);
            return r;
        }
    }
    return 0;
}

/* Every registered device loads its node; every node has a device. */
static int load_devices(struct vmctl *c, const void *fdt, char *err,
                        size_t errlen)
{
    int dn = fdt_subnode_offset(fdt, 0, "devices"), node;
    unsigned int n = devreg_count(c->env.devs);
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;

    for (unsigned int i = 0; i < n; i++) {
        int r;

        if (devreg_get(c->env.devs, i, &e, id) < 0)
            continue;
        node = dn < 0 ? -1 : fdt_subnode_offset(fdt, dn, id);
        if (node < 0) {
            snprintf(err, errlen, "the snapshot has no state for device "
                     "%s (a device not in the snapshot?)", id);
            return -EINVAL;
        }
        r = e.state->load(e.opaque, fdt, node);
        if (r < 0) {
            snprintf(err, errlen, "device %s refused its state: %s", id,
                     strerror(-r));
            return r;
        }
    }
    fdt_for_each_subnode(node, fdt, dn) {
        const char *name = fdt_get_name(fdt, node, NULL);
        bool known = false;

        for (unsigned int i = 0; !known && i < n; i++)
            known = devreg_get(c->env.devs, i, &e, id) == 0 &&
                    name && !strcmp(name, id);
        if (!known) {
            snprintf(err, errlen, "the snapshot has device %s, which this "
                     "VM lacks (missing on the command line?)",
                     name ? name : "?");
            return -EINVAL;
        }
    }
    return 0;
}

int vmctl_load(struct vmctl *c, const void *fdt, char *err, size_t errlen)
{
    int in, r = vmctl_state_compatible(fdt, err, errlen);
    char why[256];

    if (r == 0)
        r = load_vcpus(c, fdt, err, errlen);
    if (r == 0) {
        in = fdt_subnode_offset(fdt, 0, "irqchip");
        r = in < 0 ? 0 : x86_irqchip_state_load(c->env.kvm, fdt, in, why,
                                                sizeof(why));
        if (r < 0)
            snprintf(err, errlen, "irqchip: %s", why);
    }
    if (r == 0)
        r = load_devices(c, fdt, err, errlen);
    return r;
}

static void api_status(void *opaque, struct api_status *st)
{
    struct vmctl *c = opaque;

    st->state = runstate_name(c->rs.state);
    st->cpus = c->env.nvcpus;
    st->memory = c->env.mem->ram_size;
}

static int api_pause(void *opaque, char *err, size_t errlen)
{
    return vmctl_pause(opaque, err, errlen);
}

static int api_resume(void *opaque, char *err, size_t errlen)
{
    return vmctl_resume(opaque, err, errlen);
}

static int api_snapshot(void *opaque, const char *path, char *err,
                        size_t errlen)
{
    return vmctl_snapshot(opaque, path, err, errlen);
}

static void api_quit(void *opaque)
{
    struct vmctl *c = opaque;

    c->env.stop.request_stop(c->env.stop.opaque, VM_STOP_POWEROFF, 0);
}

/* --- outgoing migration (vmm/migration.h), on the event loop --- */

static int mig_begin(void *opaque, char *err, size_t errlen)
{
    struct vmctl *c = opaque;

    if (!runstate_allowed(c->rs.state, VM_EV_MIGRATE)) {
        snprintf(err, errlen, "cannot migrate while %s",
                 runstate_name(c->rs.state));
        return -EBUSY;
    }
    if (devreg_blocked(c->env.devs, err, errlen) < 0)
        return -EOPNOTSUPP;
    c->mig_stopped = false;
    set_state(c, VM_EV_MIGRATE);
    return 0;
}

static int mig_stop(void *opaque, void **fdt, size_t *len, char *err,
                    size_t errlen)
{
    struct vmctl *c = opaque;
    int r = 0;

    if (c->rs.prev == VM_RS_RUNNING && !c->mig_stopped) {
        r = stop_guest(c, err, errlen);
        c->mig_stopped = r == 0;
    }
    return r < 0 ? r : build_tree(c, fdt, len, err, errlen);
}

static void mig_end(void *opaque, enum mig_end outcome)
{
    struct vmctl *c = opaque;
    char err[256];

    if (outcome == MIG_END_DONE) {
        set_state(c, VM_EV_MIGRATE_DONE);
        c->env.stop.request_stop(c->env.stop.opaque, VM_STOP_POWEROFF, 0);
        return;
    }
    if (outcome == MIG_END_IN_DOUBT) {
        /* Not ours to decide: the destination may run it. Keep it paused
         * (vCPUs and devices stay stopped; `resume` starts them). */
        fprintf(stderr, "minivmm: migration hand-over in doubt: GO was sent "
                "but the destination never answered. The guest is kept "
                "here, paused. If the destination runs it, quit this "
                "minivmm; if not, resume it here (minivmm-ctl SOCKET "
                "resume).\n");
        c->mig_stopped = false; /* now an ordinary pause */
        set_state(c, VM_EV_MIGRATE_IN_DOUBT);
        return;
    }
    if (c->mig_stopped && start_guest(c, err, sizeof(err)) < 0)
        fprintf(stderr, "minivmm: after the migration: %s\n", err);
    c->mig_stopped = false;
    set_state(c, VM_EV_MIGRATE_FAIL);
}

static void mig_event(void *opaque, struct json_object *ev)
{
    struct vmctl *c = opaque;

    api_event_obj(c->api, ev);
}

static const struct migration_host_ops vmctl_mig_ops = {
    .begin = mig_begin,
    .stop = mig_stop,
    .end = mig_end,
    .event = mig_event,
};

static int api_migrate(void *opaque, const char *uri, char *err,
                       size_t errlen)
{
    struct vmctl *c = opaque;
    int r = c->env.ram_ready ?
            c->env.ram_ready(c->env.ram_opaque, err, errlen) : 0;

    return r < 0 ? r : migration_start(c->mig, uri, err, errlen);
}

static void api_migrate_status(void *opaque, struct json_object *reply)
{
    struct vmctl *c = opaque;

    migration_status(c->mig, reply);
}

static int api_migrate_cancel(void *opaque, char *err, size_t errlen)
{
    struct vmctl *c = opaque;

    return migration_cancel(c->mig, err, errlen);
}

static void api_config(void *opaque, struct json_object *reply)
{
    struct vmctl *c = opaque;
    struct json_object *o = c->env.cfg ? config_to_json(c->env.cfg) : NULL;

    json_object_object_add(reply, "config", o ? o : json_object_new_object());
}

static void api_stats(void *opaque, struct json_object *reply)
{
    struct vmctl *c = opaque;
    struct json_object *o = json_object_new_object();

    if (c->env.stats)
        c->env.stats(c->env.stats_opaque, o);
    json_object_object_add(reply, "stats", o);
}

static const struct api_ops vmctl_api_ops = {
    .status = api_status,
    .pause = api_pause,
    .resume = api_resume,
    .snapshot = api_snapshot,
    .quit = api_quit,
    .migrate = api_migrate,
    .migrate_status = api_migrate_status,
    .migrate_cancel = api_migrate_cancel,
    .config = api_config,
    .stats = api_stats,
};

/* The outgoing-migration object of @c. */
static int create_migration(struct vmctl *c)
{
    struct migration_env me = {
        .kvm = c->env.kvm, .mem = c->env.mem, .loop = c->env.loop,
        .devs = c->env.devs, .cpus = c->env.nvcpus, .downtime_ms = c->env.migrate_downtime_ms,
        .timeout_ms = c->env.migrate_timeout_ms,
        .host = &vmctl_mig_ops, .host_opaque = c,
        .seccomp = c->env.seccomp,
    };

    return migration_create(&me, &c->mig);
}

int vmctl_create(const struct vmctl_env *env, struct vmctl **out, char *err,
                 size_t errlen)
{
    struct vmctl *c = calloc(1, sizeof(*c));
    int r = 0;

    if (!c)
        return -ENOMEM;
    c->env = *env;
    runstate_init(&c->rs);
    r = create_migration(c);
    if (r < 0) {
        snprintf(err, errlen, "migration: %s", strerror(-r));
        free(c);
        return r;
    }
    if (env->api_socket)
        r = api_create(env->loop, env->api_socket, &vmctl_api_ops, c,
                       &c->api);
    if (r < 0) {
        snprintf(err, errlen, "--api-socket %s: %s%s", env->api_socket,
                 strerror(-r),
                 r == -EEXIST ? " (not a socket; choose another path)" :
                 r == -EADDRINUSE ? " (another minivmm serves it; stop it "
                                    "or choose another path)" : "");
        migration_destroy(c->mig);
        free(c);
        return r;
    }
    *out = c;
    return 0;
}

void vmctl_destroy(struct vmctl *c)
{
    if (!c)
        return;
    migration_destroy(c->mig);
    api_destroy(c->api);
    free(c);
}

void vmctl_started(struct vmctl *c)
{
    if (c)
        set_state(c, VM_EV_START);
}

void vmctl_stopping(struct vmctl *c)
{
    if (!c)
        return;
    set_state(c, VM_EV_STOP);
    vcpu_resume_all(c->env.sync);
}
