/* SPDX-License-Identifier: BSD-3-Clause */
/* The control API of a VM: the socket server (api.h) with its commands
 * bound to VM control (vmctl.h), the outgoing migration, the VM's
 * configuration and counters; run-state and migration events go to its
 * clients. Event-loop thread. */
#ifndef MINIVMM_VMCTL_API_H
#define MINIVMM_VMCTL_API_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/runstate.h"

struct evloop;
struct json_object;
struct vm_config;
struct vmctl;
struct vmctl_api;

struct vmctl_api_env {
    struct vmctl *ctl;
    struct evloop *loop;
    const char *path;            /* the socket (--api-socket) */
    unsigned int cpus;           /* "status" */
    uint64_t memory;             /* "status": bytes */
    const struct vm_config *cfg; /* the "config" reply; NULL: {} */
    /* Fill the "stats" reply object (NULL: an empty object). */
    void (*stats)(void *opaque, struct json_object *out);
    void *stats_opaque;
    struct vm_stop_ctl stop;     /* "quit" */
};

/* Listen on @env->path and send @env->ctl's events to the clients. 0 or
 * -errno with the reason in @err (e.g. the path is in use). */
int vmctl_api_create(const struct vmctl_api_env *env, struct vmctl_api **out,
                     char *err, size_t errlen);

/* Stop the events (before @env->ctl goes), close the socket. NULL is a
 * no-op. */
void vmctl_api_destroy(struct vmctl_api *va);

#endif
