/* SPDX-License-Identifier: BSD-3-Clause */
/* Control API server on the event loop (see api.h, docs/api.md). */
#include "minivmm/api.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/evloop.h"

struct api_client {
    int fd;
    size_t len;
    uint64_t last_us;       /* CLOCK_MONOTONIC of its last request */
    char buf[API_LINE_MAX + 1];
};

struct api {
    struct evloop *loop;
    int listen_fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const struct api_ops *ops;
    void *opaque;
    struct api_client *clients[API_MAX_CLIENTS];
    uint64_t idle_us;       /* evictable after this long silent */
    int trace_fd;           /* MINIVMM_API_TRACE, or -1 */
};

/* MINIVMM_API_TRACE=FILE (tests): every reply and event sent is appended
 * to FILE as one line, for the schema check (docs/api.schema.json,
 * tests/integration/api_schema_check.py). */
static void trace(struct api *a, struct json_object *o)
{
    const char *s;
    size_t n;
    char *line;

    if (a->trace_fd < 0)
        return;
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    n = strlen(s);
    line = malloc(n + 1);
    if (!line)
        return;
    memcpy(line, s, n);
    line[n] = '\n';
    if (write(a->trace_fd, line, n + 1) < 0) {
        /* a test aid: nothing to do */
    }
    free(line);
}

static void drop_client(struct api *a, unsigned int i)
{
    struct api_client *c = a->clients[i];

    evloop_del(a->loop, c->fd);
    close(c->fd);
    free(c);
    a->clients[i] = NULL;
}

/* One JSON object and a newline; a client that cannot take it is
 * dropped. */
static void send_obj(struct api *a, unsigned int i, struct json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(s);
    char *line = malloc(n + 1);
    ssize_t w;

    if (!line)
        return;
    memcpy(line, s, n);
    line[n] = '\n';
    w = send(a->clients[i]->fd, line, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(line);
    if (w != (ssize_t)(n + 1))
        drop_client(a, i);
}

void api_event_obj(struct api *a, struct json_object *ev)
{
    if (!a)
        return;
    trace(a, ev);
    for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
        if (a->clients[i])
            send_obj(a, i, ev);
}

static int cmd_status(struct api *a, const struct api_request *req,
                      struct json_object *reply, char *err, size_t errlen)
{
    struct api_status st;

    (void)req, (void)err, (void)errlen;
    a->ops->status(a->opaque, &st);
    json_object_object_add(reply, "state", json_object_new_string(st.state));
    json_object_object_add(reply, "cpus", json_object_new_int((int)st.cpus));
    json_object_object_add(reply, "memory",
                           json_object_new_int64((int64_t)st.memory));
    return 0;
}

static int cmd_pause(struct api *a, const struct api_request *req,
                     struct json_object *reply, char *err, size_t errlen)
{
    (void)req, (void)reply;
    return a->ops->pause(a->opaque, err, errlen);
}

static int cmd_resume(struct api *a, const struct api_request *req,
                      struct json_object *reply, char *err, size_t errlen)
{
    (void)req, (void)reply;
    return a->ops->resume(a->opaque, err, errlen);
}

static int cmd_snapshot(struct api *a, const struct api_request *req,
                        struct json_object *reply, char *err, size_t errlen)
{
    int r = a->ops->snapshot(a->opaque, req->file, err, errlen);

    if (r == 0)
        json_object_object_add(reply, "file",
                               json_object_new_string(req->file));
    return r;
}

static int cmd_quit(struct api *a, const struct api_request *req,
                    struct json_object *reply, char *err, size_t errlen)
{
    (void)a, (void)req, (void)reply, (void)err, (void)errlen;
    return 0; /* the stop is requested after the reply went out */
}

static int not_implemented(const struct api_request *req, char *err,
                           size_t errlen)
{
    snprintf(err, errlen, "%s: not implemented", api_cmd_name(req->cmd));
    return -ENOSYS;
}

static int cmd_migrate(struct api *a, const struct api_request *req,
                       struct json_object *reply, char *err, size_t errlen)
{
    (void)reply;
    if (!a->ops->migrate)
        return not_implemented(req, err, errlen);
    return a->ops->migrate(a->opaque, req, err, errlen);
}

static int cmd_migrate_status(struct api *a, const struct api_request *req,
                              struct json_object *reply, char *err,
                              size_t errlen)
{
    if (!a->ops->migrate_status)
        return not_implemented(req, err, errlen);
    a->ops->migrate_status(a->opaque, reply);
    return 0;
}

static int cmd_migrate_cancel(struct api *a, const struct api_request *req,
                              struct json_object *reply, char *err,
                              size_t errlen)
{
    (void)reply;
    if (!a->ops->migrate_cancel)
        return not_implemented(req, err, errlen);
    return a->ops->migrate_cancel(a->opaque, err, errlen);
}

static int cmd_config(struct api *a, const struct api_request *req,
                      struct json_object *reply, char *err, size_t errlen)
{
    if (!a->ops->config)
        return not_implemented(req, err, errlen);
    a->ops->config(a->opaque, reply);
    return 0;
}

static int cmd_stats(struct api *a, const struct api_request *req,
                     struct json_object *reply, char *err, size_t errlen)
{
    if (!a->ops->stats)
        return not_implemented(req, err, errlen);
    a->ops->stats(a->opaque, reply);
    return 0;
}

static int cmd_device_add(struct api *a, const struct api_request *req,
                          struct json_object *reply, char *err,
                          size_t errlen)
{
    if (!a->ops->device_add)
        return not_implemented(req, err, errlen);
    return a->ops->device_add(a->opaque, req->dev_type, req->dev_args, reply,
                              err, errlen);
}

static int cmd_device_remove(struct api *a, const struct api_request *req,
                             struct json_object *reply, char *err,
                             size_t errlen)
{
    int r;

    if (!a->ops->device_remove)
        return not_implemented(req, err, errlen);
    r = a->ops->device_remove(a->opaque, req->dev_id, req->timeout_ms, err,
                              errlen);
    if (r == 0)
        json_object_object_add(reply, "pending",
                               json_object_new_boolean(1));
    return r;
}

static int cmd_powerdown(struct api *a, const struct api_request *req,
                         struct json_object *reply, char *err, size_t errlen)
{
    (void)reply;
    if (!a->ops->powerdown)
        return not_implemented(req, err, errlen);
    return a->ops->powerdown(a->opaque, err, errlen);
}

typedef int (*api_cmd_fn)(struct api *a, const struct api_request *req,
                          struct json_object *reply, char *err,
                          size_t errlen);

static const api_cmd_fn handlers[API_CMD_COUNT] = {
    [API_CMD_STATUS] = cmd_status,
    [API_CMD_PAUSE] = cmd_pause,
    [API_CMD_RESUME] = cmd_resume,
    [API_CMD_SNAPSHOT] = cmd_snapshot,
    [API_CMD_QUIT] = cmd_quit,
    [API_CMD_MIGRATE] = cmd_migrate,
    [API_CMD_MIGRATE_STATUS] = cmd_migrate_status,
    [API_CMD_MIGRATE_CANCEL] = cmd_migrate_cancel,
    [API_CMD_CONFIG] = cmd_config,
    [API_CMD_STATS] = cmd_stats,
    [API_CMD_DEVICE_ADD] = cmd_device_add,
    [API_CMD_DEVICE_REMOVE] = cmd_device_remove,
    [API_CMD_POWERDOWN] = cmd_powerdown,
};

/* Parse, run, reply: the one place a request's outcome is reported. */
static void handle_line(struct api *a, unsigned int i, char *line,
                        size_t len)
{
    struct json_object *reply, *extra = json_object_new_object();
    struct api_request req;
    char err[512] = "";
    int r;

    r = api_parse_request(line, len, &req, err, sizeof(err));
    if (r == 0)
        r = handlers[req.cmd](a, &req, extra, err, sizeof(err));
    reply = json_object_new_object();
    if (req.has_id)
        json_object_object_add(reply, "id", json_object_new_int64(req.id));
    if (r == 0) {
        json_object_object_add(reply, "ok", json_object_new_boolean(1));
        json_object_object_foreach(extra, key, val)
            json_object_object_add(reply, key, json_object_get(val));
    } else {
        json_object_object_add(reply, "error", json_object_new_string(
                                   err[0] ? err : strerror(-r)));
    }
    trace(a, reply);
    if (a->clients[i])
        send_obj(a, i, reply);
    json_object_put(reply);
    json_object_put(extra);
    if (r == 0 && req.cmd == API_CMD_QUIT)
        a->ops->quit(a->opaque);
}

/* Complete lines in the client's buffer, each handled in turn. */
static void drain_lines(struct api *a, unsigned int i)
{
    struct api_client *c = a->clients[i];
    char *nl;

    while (a->clients[i] == c && (nl = memchr(c->buf, '\n', c->len))) {
        size_t n = (size_t)(nl - c->buf), len = n;

        while (len && (c->buf[len - 1] == '\r' || c->buf[len - 1] == ' ' ||
                       c->buf[len - 1] == '\t'))
            len--;
        handle_line(a, i, c->buf, len); /* an empty line: an error reply */
        if (a->clients[i] != c)
            return; /* dropped while replying */
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
    }
}

static void on_client(void *opaque, int fd, uint32_t events)
{
    struct api *a = opaque;
    unsigned int i = 0;
    struct api_client *c;
    ssize_t n;

    while (i < API_MAX_CLIENTS && (!a->clients[i] || a->clients[i]->fd != fd))
        i++;
    if (i == API_MAX_CLIENTS)
        return;
    c = a->clients[i];
    n = recv(fd, c->buf + c->len, API_LINE_MAX - c->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        drop_client(a, i);
        return;
    }
    c->len += (size_t)n;
    c->last_us = clock_now_us();
    drain_lines(a, i);
    if (a->clients[i] == c && c->len == API_LINE_MAX) {
        /* A line longer than the limit: say so once, then hang up (the
         * rest of the line is not worth reading). */
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "error",
                               json_object_new_string("request too long"));
        send_obj(a, i, o);
        json_object_put(o);
        if (a->clients[i] == c)
            drop_client(a, i);
    }
    (void)events;
}

/* A free client slot, evicting the longest-idle client when all are taken
 * and it has been silent for API_IDLE_SEC; API_MAX_CLIENTS when none. */
static unsigned int free_slot(struct api *a)
{
    unsigned int i, idle = API_MAX_CLIENTS;
    uint64_t now = clock_now_us();

    for (i = 0; i < API_MAX_CLIENTS; i++) {
        if (!a->clients[i])
            return i;
        if (idle == API_MAX_CLIENTS ||
            a->clients[i]->last_us < a->clients[idle]->last_us)
            idle = i;
    }
    if (now - a->clients[idle]->last_us < a->idle_us)
        return API_MAX_CLIENTS;
    drop_client(a, idle);
    return idle;
}

/* Only the socket's owner (minivmm's effective uid) and root may drive the
 * VM (SO_PEERCRED, unix(7)); the socket file is 0600 too. */
static bool peer_allowed(int cfd)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);

    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
        return false;
    return cr.uid == 0 || cr.uid == geteuid();
}

static void refuse(int cfd, const char *line)
{
    if (send(cfd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* closing anyway */
    }
    close(cfd);
}

static void on_accept(void *opaque, int fd, uint32_t events)
{
    struct api *a = opaque;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    unsigned int i;

    (void)events;
    if (cfd < 0)
        return;
    if (!peer_allowed(cfd)) {
        refuse(cfd, "{\"error\":\"permission denied: not the owner of "
                    "this minivmm\"}\n");
        return;
    }
    i = free_slot(a);
    if (i == API_MAX_CLIENTS ||
        !(a->clients[i] = calloc(1, sizeof(*a->clients[i])))) {
        refuse(cfd, "{\"error\":\"too many clients\"}\n");
        return;
    }
    a->clients[i]->fd = cfd;
    a->clients[i]->last_us = clock_now_us();
    if (evloop_add(a->loop, cfd, EPOLLIN, on_client, a) < 0) {
        close(cfd);
        free(a->clients[i]);
        a->clients[i] = NULL;
    }
}

/* Whether a process listens on the socket at @sa (connect succeeds). */
static bool socket_live(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live;

    if (fd < 0)
        return true; /* cannot tell: do not remove it */
    live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
           errno != ECONNREFUSED;
    close(fd);
    return live;
}

/* Bind @path owner-only (0600). A stale socket file left by a dead minivmm
 * is replaced; a live one (another minivmm answers) is -EADDRINUSE; any
 * other file there is -EEXIST. */
static int bind_path(int fd, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return -EEXIST;
        if (socket_live(&sa))
            return -EADDRINUSE;
        unlink(path);
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -errno;
    if (chmod(path, 0600) < 0 || listen(fd, API_MAX_CLIENTS) < 0) {
        int r = -errno;

        unlink(path);
        return r;
    }
    return 0;
}

int api_create(struct evloop *loop, const char *path,
               const struct api_ops *ops, void *opaque, struct api **out)
{
    struct api *a = calloc(1, sizeof(*a));
    int r;

    if (!a)
        return -ENOMEM;
    a->loop = loop;
    a->idle_us = API_IDLE_SEC * 1000000ull;
    a->trace_fd = getenv("MINIVMM_API_TRACE")
                      ? open(getenv("MINIVMM_API_TRACE"), O_WRONLY | O_APPEND |
                             O_CREAT | O_CLOEXEC, 0600)
                      : -1;
    a->ops = ops;
    a->opaque = opaque;
    a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
                                       SOCK_NONBLOCK, 0);
    r = a->listen_fd < 0 ? -errno : bind_path(a->listen_fd, path);
    if (r == 0) {
        snprintf(a->path, sizeof(a->path), "%s", path);
        r = evloop_add(loop, a->listen_fd, EPOLLIN, on_accept, a);
        if (r < 0)
            unlink(path);
    }
    if (r < 0) {
        if (a->listen_fd >= 0)
            close(a->listen_fd);
        if (a->trace_fd >= 0)
            close(a->trace_fd);
        free(a);
        return r;
    }
    *out = a;
    return 0;
}

void api_set_idle_limit(struct api *a, unsigned int ms)
{
    a->idle_us = (uint64_t)ms * 1000u;
}

void api_destroy(struct api *a)
{
    if (!a)
        return;
    for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
        if (a->clients[i])
            drop_client(a, i);
    evloop_del(a->loop, a->listen_fd);
    close(a->listen_fd);
    unlink(a->path);
    if (a->trace_fd >= 0)
        close(a->trace_fd);
    free(a);
}
