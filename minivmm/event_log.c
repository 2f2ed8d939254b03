/* SPDX-License-Identifier: BSD-3-Clause */
/* Event timestamps and --event-log (see event_log.h). */
#include "minivmm/event_log.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void event_stamp(struct json_object *ev)
{
    struct timespec ts;
    struct tm tm;
    char buf[48];
    size_t n;

    if (json_object_object_get_ex(ev, "timestamp", NULL))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%06ldZ", ts.tv_nsec / 1000);
    json_object_object_add(ev, "timestamp", json_object_new_string(buf));
}

FILE *event_log_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

    if (!f) {
        snprintf(err, errlen, "--event-log %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

void event_log_write(FILE *f, struct json_object *ev)
{
    if (!f)
        return;
    fprintf(f, "%s\n", json_object_to_json_string_ext(
                           ev, JSON_C_TO_STRING_PLAIN |
                               JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(f);
}
