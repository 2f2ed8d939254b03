/* SPDX-License-Identifier: BSD-3-Clause */
/* The control API's commands bound to the VM (see vmctl_api.h). */
#include "minivmm/vmctl_api.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/api.h"
#include "minivmm/config_file.h"
#include "minivmm/persist/migration.h"
#include "minivmm/vmctl.h"

struct vmctl_api {
    struct vmctl_api_env env;
    struct api *api;
};

static void api_status(void *opaque, struct api_status *st)
{
    struct vmctl_api *va = opaque;

    st->state = vmctl_state_name(va->env.ctl);
    st->cpus = va->env.cpus;
    st->memory = va->env.memory;
}

static int api_pause(void *opaque, char *err, size_t errlen)
{
    struct vmctl_api *va = opaque;

    return vmctl_pause(va->env.ctl, err, errlen);
}

static int api_resume(void *opaque, char *err, size_t errlen)
{
    struct vmctl_api *va = opaque;

    return vmctl_resume(va->env.ctl, err, errlen);
}

static int api_snapshot(void *opaque, const char *path, char *err,
                        size_t errlen)
{
    struct vmctl_api *va = opaque;

    return vmctl_snapshot(va->env.ctl, path, err, errlen);
}

static void api_quit(void *opaque)
{
    struct vmctl_api *va = opaque;

    va->env.stop.request_stop(va->env.stop.opaque, VM_STOP_POWEROFF, 0);
}

static int api_migrate(void *opaque, const struct api_request *req,
                       char *err, size_t errlen)
{
    struct vmctl_api *va = opaque;
    struct migration_params p = {
        .downtime_ms = req->mig_downtime_ms,
        .no_auto_converge = req->mig_auto_converge == 0,
        .max_bandwidth = req->mig_max_bandwidth,
        .rt_boost = req->mig_rt_boost < 0 ? MIG_RT_BOOST_DEFAULT :
                    req->mig_rt_boost ? MIG_RT_BOOST_ON : MIG_RT_BOOST_OFF,
    };
    int r = vmctl_ram_ready(va->env.ctl, err, errlen);

    return r < 0 ? r : migration_start(vmctl_migration(va->env.ctl),
                                       req->uri, &p, err, errlen);
}

static void api_migrate_status(void *opaque, struct json_object *reply)
{
    struct vmctl_api *va = opaque;

    migration_status(vmctl_migration(va->env.ctl), reply);
}

static int api_migrate_cancel(void *opaque, char *err, size_t errlen)
{
    struct vmctl_api *va = opaque;

    return migration_cancel(vmctl_migration(va->env.ctl), err, errlen);
}

static void api_config(void *opaque, struct json_object *reply)
{
    struct vmctl_api *va = opaque;
    struct json_object *o = va->env.cfg ? config_to_json(va->env.cfg) : NULL;

    json_object_object_add(reply, "config", o ? o : json_object_new_object());
}

static void api_stats(void *opaque, struct json_object *reply)
{
    struct vmctl_api *va = opaque;
    struct json_object *o = json_object_new_object();

    if (va->env.stats)
        va->env.stats(va->env.stats_opaque, o);
    json_object_object_add(reply, "stats", o);
}

static int api_device_add(void *opaque, const char *type, const char *args,
                          struct json_object *reply, char *err,
                          size_t errlen)
{
    struct vmctl_api *va = opaque;

    return vmctl_device_add(va->env.ctl, type, args, reply, err, errlen);
}

static int api_device_remove(void *opaque, const char *id,
                             unsigned int timeout_ms, char *err,
                             size_t errlen)
{
    struct vmctl_api *va = opaque;

    return vmctl_device_remove(va->env.ctl, id, timeout_ms, err, errlen);
}

static int api_powerdown(void *opaque, char *err, size_t errlen)
{
    struct vmctl_api *va = opaque;

    return vmctl_powerdown(va->env.ctl, err, errlen);
}

static const struct api_ops vmctl_api_ops = {
    .device_add = api_device_add,
    .device_remove = api_device_remove,
    .powerdown = api_powerdown,
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

static void on_event(void *opaque, struct json_object *ev)
{
    struct vmctl_api *va = opaque;

    api_event_obj(va->api, ev);
}

int vmctl_api_create(const struct vmctl_api_env *env, struct vmctl_api **out,
                     char *err, size_t errlen)
{
    struct vmctl_api *va = calloc(1, sizeof(*va));
    struct vm_event_sink sink = { NULL, on_event, va };
    int r;

    if (!va)
        return -ENOMEM;
    va->env = *env;
    r = api_create(env->loop, env->path, &vmctl_api_ops, va, &va->api);
    if (r < 0) {
        snprintf(err, errlen, "--api-socket %s: %s%s", env->path,
                 strerror(-r),
                 r == -EEXIST ? " (not a socket; choose another path)" :
                 r == -EADDRINUSE ? " (another minivmm serves it; stop it "
                                    "or choose another path)" : "");
        free(va);
        return r;
    }
    vmctl_set_events(env->ctl, &sink);
    *out = va;
    return 0;
}

void vmctl_api_destroy(struct vmctl_api *va)
{
    struct vm_event_sink none = { NULL, NULL, NULL };

    if (!va)
        return;
    vmctl_set_events(va->env.ctl, &none);
    api_destroy(va->api);
    free(va);
}
