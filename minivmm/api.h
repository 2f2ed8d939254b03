/* SPDX-License-Identifier: BSD-3-Clause */
/* The control API: a UNIX stream socket speaking newline-delimited JSON
 * (docs/api.md). A client sends {"id":N,"cmd":"pause"} (id optional, any
 * integer, echoed); the reply is {"id":N,"ok":true,...} or
 * {"id":N,"error":"reason"}. Events go to every client:
 * {"event":"state","state":"paused"}. Served on the event loop (one
 * handler per ready fd, no threads); commands run synchronously there.
 */
#ifndef MINIVMM_API_H
#define MINIVMM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/api_parse.h"

struct api;
struct evloop;
struct json_object;

struct api_status {
    const char *state;          /* runstate name */
    unsigned int cpus;
    uint64_t memory;            /* bytes */
};

/* What the API drives; every op returns 0 or -errno with the reason in
 * @err. */
struct api_ops {
    void (*status)(void *opaque, struct api_status *st);
    int (*pause)(void *opaque, char *err, size_t errlen);
    int (*resume)(void *opaque, char *err, size_t errlen);
    int (*snapshot)(void *opaque, const char *path, char *err,
                    size_t errlen);
    void (*quit)(void *opaque);
    /* Outgoing live migration (NULL: "not implemented"): start to @uri,
     * add the status fields to @reply, cancel. */
    /* @req: "uri" and the optional migrate parameters (api_parse.h). */
    int (*migrate)(void *opaque, const struct api_request *req, char *err,
                   size_t errlen);
    void (*migrate_status)(void *opaque, struct json_object *reply);
    int (*migrate_cancel)(void *opaque, char *err, size_t errlen);
    /* "config": add "config" (the --config JSON of the running VM) to
     * @reply; "stats": add "stats" (docs/api.md). NULL: not implemented. */
    void (*config)(void *opaque, struct json_object *reply);
    void (*stats)(void *opaque, struct json_object *reply);
    /* Hotplug and the power button (NULL: not implemented). */
    int (*device_add)(void *opaque, const char *type, const char *args,
                      struct json_object *reply, char *err, size_t errlen);
    int (*device_remove)(void *opaque, const char *id,
                         unsigned int timeout_ms, char *err, size_t errlen);
    int (*powerdown)(void *opaque, char *err, size_t errlen);
};

/* Listen on @path (an existing socket file is replaced, anything else
 * refused: -EEXIST) and serve on @loop. 0 or -errno. */
int api_create(struct evloop *loop, const char *path,
               const struct api_ops *ops, void *opaque, struct api **out);
/* Close every client and the socket; unlink the path. */
/* A client silent for @ms milliseconds may be evicted when all
 * API_MAX_CLIENTS slots are taken and another connects (default
 * API_IDLE_SEC seconds). */
void api_set_idle_limit(struct api *a, unsigned int ms);

void api_destroy(struct api *a);

/* Send the event object @ev (with its "event" member; reference
 * borrowed) to every client. */
void api_event_obj(struct api *a, struct json_object *ev);

#endif
