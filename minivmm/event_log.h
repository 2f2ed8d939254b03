/* SPDX-License-Identifier: BSD-3-Clause */
/* Events of the control API (docs/api.md "Events") outside the socket: the
 * timestamp every event carries, and --event-log FILE (one JSON object per
 * line, appended, flushed per event). */
#ifndef MINIVMM_EVENT_LOG_H
#define MINIVMM_EVENT_LOG_H

#include <stddef.h>
#include <stdio.h>

struct json_object;

/* Add "timestamp": RFC 3339 UTC with microseconds
 * ("2026-12-06T09:08:10.123456Z") to @ev unless it has one. */
void event_stamp(struct json_object *ev);

/* Open @path for appending (created 0600): the FILE or NULL with
 * "--event-log PATH: reason" in @err. */
FILE *event_log_open(const char *path, char *err, size_t errlen);
/* Append @ev as one line and flush. NULL @f: nothing. */
void event_log_write(FILE *f, struct json_object *ev);

#endif
