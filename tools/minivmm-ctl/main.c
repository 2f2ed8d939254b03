/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl: command-line client of the control API (docs/api.md).
 *
 *   minivmm-ctl PATH status|pause|resume|snapshot FILE|quit
 *                    |migrate URI|migrate-status|migrate-cancel
 *                    |config|stats
 *   minivmm-ctl CONSOLE-SOCKET console
 *
 * Sends one request, waits for the reply with its id (events before it
 * are skipped; migrate then follows the migration's events until it ends,
 * progress on stderr, and exits 0 only if it completed), prints the reply's fields as "key: value" lines (status)
 * or "ok", and exits 0; on {"error":...} prints it and exits 1; 2 for a
 * bad command line; 3 when the socket cannot be reached or the reply is
 * not understood. What it tells the user goes to stdout/stderr with
 * printf/fprintf: that is this client's user interface, not a log, so it
 * does not go through vmm/log.h.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/minivmm-ctl/console.h"
#include "tools/minivmm-ctl/ctl.h"
#include "tools/minivmm-ctl/help.h"
#include "vmm/version.h"

#define CTL_ID 1
#define EXIT_BADCMD CTL_EXIT_BADCMD
#define EXIT_NOCONN CTL_EXIT_NOCONN

static int usage(void)
{
    ctl_usage(stderr);
    return EXIT_BADCMD;
}

/* The request object for argv[2..]; NULL on a bad command line. */
static struct json_object *build_request(int argc, char **argv)
{
    struct json_object *o;
    const char *cmd = argv[2];
    const char *arg_key = NULL;
    char abs[PATH_MAX];

    if (!strcmp(cmd, "snapshot"))
        arg_key = "file";
    else if (!strcmp(cmd, "migrate"))
        arg_key = "uri";
    if (argc != (arg_key ? 4 : 3))
        return NULL;
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int(CTL_ID));
    json_object_object_add(o, "cmd", json_object_new_string(cmd));
    if (arg_key) {
        const char *v = argv[3];

        /* The VMM may run elsewhere: send an absolute path. */
        if (!strcmp(arg_key, "file") && v[0] != '/' &&
            getcwd(abs, sizeof(abs)) &&
            strlen(abs) + strlen(v) + 2 < sizeof(abs)) {
            strcat(abs, "/");
            strcat(abs, v);
            v = abs;
        }
        json_object_object_add(o, arg_key, json_object_new_string(v));
    }
    return o;
}

struct reader {
    int fd;
    size_t len;
    char buf[65536];
};

/* The next line as a JSON object (NULL for junk: check @eof); @eof set
 * when the connection ended. */
static struct json_object *read_obj(struct reader *rd, int *eof)
{
    for (;;) {
        char *nl = memchr(rd->buf, '\n', rd->len);
        struct json_object *o;
        ssize_t n;

        if (nl) {
            *nl = 0;
            o = json_tokener_parse(rd->buf);
            rd->len -= (size_t)(nl + 1 - rd->buf);
            memmove(rd->buf, nl + 1, rd->len);
            return o;
        }
        n = rd->len == sizeof(rd->buf) ? 0 :
            read(rd->fd, rd->buf + rd->len, sizeof(rd->buf) - rd->len);
        if (n <= 0) {
            *eof = 1;
            return NULL;
        }
        rd->len += (size_t)n;
    }
}

/* Read lines until the reply carrying our id; NULL on EOF or junk. */
static struct json_object *read_reply(struct reader *rd)
{
    int eof = 0;

    while (!eof) {
        struct json_object *o = read_obj(rd, &eof), *id;

        if (o && json_object_object_get_ex(o, "id", &id) &&
            json_object_get_int(id) == CTL_ID)
            return o;
        if (o && json_object_object_get_ex(o, "error", NULL) &&
            !json_object_object_get_ex(o, "event", NULL))
            return o; /* an error without an id (e.g. busy) */
        json_object_put(o);
    }
    return NULL;
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) ?
           json_object_get_string(v) : NULL;
}

/* migrate: follow the "migration" events until it ends. Progress goes to
 * stderr, the final status to stdout; 0 when completed, 1 otherwise. */
static int follow_migration(struct reader *rd)
{
    int eof = 0;

    while (!eof) {
        struct json_object *o = read_obj(rd, &eof);
        const char *ev = o ? get_str(o, "event") : NULL;
        const char *st = o ? get_str(o, "state") : NULL;
        int done = st && (!strcmp(st, "completed") ||
                          !strcmp(st, "failed") ||
                          !strcmp(st, "cancelled") ||
                          !strcmp(st, "in-doubt"));

        if (ev && st && !strcmp(ev, "migration") && done) {
            int r = strcmp(st, "completed") ? 1 : 0;

            json_object_object_del(o, "event");
            json_object_object_foreach(o, key, val)
                printf("%s: %s\n", key, json_object_get_string(val));
            json_object_put(o);
            return r;
        }
        if (ev && !strcmp(ev, "migration"))
            fprintf(stderr, "%s\n", json_object_to_json_string_ext(
                                        o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    }
    fprintf(stderr, "minivmm-ctl: connection closed during the migration "
            "(minivmm gone?)\n");
    return EXIT_NOCONN;
}

static int print_reply(struct json_object *reply, const char *cmd)
{
    struct json_object *e;
    int fields = 0;

    if (json_object_object_get_ex(reply, "error", &e)) {
        fprintf(stderr, "minivmm-ctl: %s\n", json_object_get_string(e));
        return 1;
    }
    /* config, stats: the object named like the command, as JSON. */
    if ((!strcmp(cmd, "config") || !strcmp(cmd, "stats")) &&
        json_object_object_get_ex(reply, cmd, &e)) {
        printf("%s\n", json_object_to_json_string_ext(
                           e, JSON_C_TO_STRING_PRETTY |
                              JSON_C_TO_STRING_SPACED |
                              JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
    }
    json_object_object_foreach(reply, key, val) {
        if (!strcmp(key, "id") || !strcmp(key, "ok"))
            continue;
        printf("%s: %s\n", key, json_object_get_string(val));
        fields++;
    }
    if (!fields)
        printf("ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct json_object *req, *reply;
    struct reader *rd;
    const char *line;
    int fd, status;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        ctl_usage(stdout);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("minivmm-ctl %s\n", minivmm_version);
        return 0;
    }
    if (argc < 3)
        return usage();
    /* minivmm may hang up mid-request (a rejected or too-long request):
     * report it as an error instead of dying of SIGPIPE (exit 141). */
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[2], "console"))
        return argc == 3 ? ctl_console(argv[1]) : usage();
    req = build_request(argc, argv);
    if (!req)
        return usage();
    fd = ctl_connect(argv[1]);
    if (fd < 0) {
        fprintf(stderr, "minivmm-ctl: %s: %s\n", argv[1], strerror(-fd));
        json_object_put(req);
        return EXIT_NOCONN;
    }
    rd = calloc(1, sizeof(*rd));
    line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    if (!rd) {
        status = EXIT_NOCONN;
    } else if (rd->fd = fd, dprintf(fd, "%s\n", line) < 0) {
        fprintf(stderr, "minivmm-ctl: sending: %s\n", strerror(errno));
        status = EXIT_NOCONN;
    } else if (!(reply = read_reply(rd))) {
        fprintf(stderr, "minivmm-ctl: no reply (minivmm gone?)\n");
        status = EXIT_NOCONN;
    } else {
        status = !strcmp(argv[2], "migrate") &&
                 !json_object_object_get_ex(reply, "error", NULL) ?
                 follow_migration(rd) : print_reply(reply, argv[2]);
        json_object_put(reply);
    }
    json_object_put(req);
    free(rd);
    close(fd);
    return status;
}
