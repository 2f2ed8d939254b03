/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl: command-line client of the control API (docs/api.md).
 *
 *   minivmm-ctl [--json] PATH COMMAND [ARG...]   (cmds.c: the table)
 *   minivmm-ctl CONSOLE-SOCKET console
 *
 * Sends one request, waits for the reply with its id (events before it
 * are skipped; migrate then follows the migration's events until it ends,
 * progress on stderr: a bar on a terminal, else the events, and exits 0
 * only if it completed), prints the reply's fields as "key: value" lines (status)
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/minivmm-ctl/console.h"
#include "tools/minivmm-ctl/cmds.h"
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

static long long get_num(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v)
                                                 : 0;
}

/* One progress line on a terminal: phase, a bar of bytes sent over bytes
 * sent + remaining, MiB, pass. */
static void progress_bar(struct json_object *o)
{
    long long sent = get_num(o, "bytes-sent");
    long long left = get_num(o, "bytes-remaining");
    int pct = sent + left > 0 ? (int)(100 * sent / (sent + left)) : 0;
    char bar[31];

    for (int i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '#' : '-';
    bar[30] = 0;
    fprintf(stderr, "\r%-10s [%s] %3d%% %.1f/%.1f MiB, pass %lld ",
            get_str(o, "state") ? get_str(o, "state") : "?", bar, pct,
            (double)sent / 1048576, (double)(sent + left) / 1048576,
            get_num(o, "iterations"));
}

/* migrate: follow the "migration" events until it ends. Progress goes to
 * stderr, the final status to stdout; 0 when completed, 1 otherwise. */
static int follow_migration(struct reader *rd)
{
    bool tty = isatty(STDERR_FILENO);
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

            if (tty) {
                progress_bar(o);
                fputc('\n', stderr);
            }
            json_object_object_del(o, "event");
            json_object_object_foreach(o, key, val)
                printf("%s: %s\n", key, json_object_get_string(val));
            json_object_put(o);
            return r;
        }
        if (ev && !strcmp(ev, "migration") && tty)
            progress_bar(o);
        else if (ev && !strcmp(ev, "migration"))
            fprintf(stderr, "%s\n", json_object_to_json_string_ext(
                                        o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    }
    fprintf(stderr, "minivmm-ctl: connection closed during the migration "
            "(minivmm gone?)\n");
    return EXIT_NOCONN;
}

static int print_reply(struct json_object *reply, const char *cmd,
                       bool raw)
{
    struct json_object *e;
    int fields = 0;

    if (raw) {
        printf("%s\n", json_object_to_json_string_ext(
                           reply, JSON_C_TO_STRING_PLAIN |
                                  JSON_C_TO_STRING_NOSLASHESCAPE));
        return json_object_object_get_ex(reply, "error", NULL) ? 1 : 0;
    }
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
        printf("%s: %s\n", key, json_object_is_type(val, json_type_string)
                                   ? json_object_get_string(val)
                                   : json_object_to_json_string_ext(
                                         val, JSON_C_TO_STRING_PLAIN |
                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        fields++;
    }
    if (!fields)
        printf("ok\n");
    return 0;
}

/* events: every line minivmm sends until it hangs up, as JSON (raw) or
 * "EVENT key=value ..." lines. 0 when minivmm closed the socket. */
static int follow_events(struct reader *rd, bool raw)
{
    int eof = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while (!eof) {
        struct json_object *o = read_obj(rd, &eof);
        const char *ev = o ? get_str(o, "event") : NULL;

        if (ev && raw) {
            printf("%s\n", json_object_to_json_string_ext(
                               o, JSON_C_TO_STRING_PLAIN |
                                  JSON_C_TO_STRING_NOSLASHESCAPE));
        } else if (ev) {
            printf("%s", ev);
            json_object_object_foreach(o, key, val)
                if (strcmp(key, "event"))
                    printf(" %s=%s", key, json_object_get_string(val));
            printf("\n");
        }
        json_object_put(o);
    }
    return 0;
}

/* The command named @name, or NULL after saying why (exit 2). */
static const struct ctl_cmd *lookup(const char *name)
{
    const struct ctl_cmd *c = ctl_cmd_find(name);
    const char *s;

    if (c)
        return c;
    s = ctl_cmd_suggest(name);
    fprintf(stderr, "minivmm-ctl: unknown command '%s'%s%s%s (minivmm-ctl "
            "--help lists them)\n", name, s ? "; did you mean '" : "",
            s ? s : "", s ? "'?" : "");
    return NULL;
}

/* Send @req on @fd and handle the reply. */
static int run(int fd, struct json_object *req, const char *cmd, bool raw)
{
    struct reader *rd = calloc(1, sizeof(*rd));
    const char *line = json_object_to_json_string_ext(req,
                                                      JSON_C_TO_STRING_PLAIN);
    struct json_object *reply;
    int status;

    if (!rd)
        return EXIT_NOCONN;
    rd->fd = fd;
    if (!strcmp(cmd, "events")) {
        status = follow_events(rd, raw);
    } else if (dprintf(fd, "%s\n", line) < 0) {
        fprintf(stderr, "minivmm-ctl: sending: %s\n", strerror(errno));
        status = EXIT_NOCONN;
    } else if (!(reply = read_reply(rd))) {
        fprintf(stderr, "minivmm-ctl: no reply (minivmm gone?)\n");
        status = EXIT_NOCONN;
    } else {
        status = !strcmp(cmd, "migrate") && !raw &&
                 !json_object_object_get_ex(reply, "error", NULL) ?
                 follow_migration(rd) : print_reply(reply, cmd, raw);
        json_object_put(reply);
    }
    free(rd);
    return status;
}

int main(int argc, char **argv)
{
    const struct ctl_cmd *c;
    struct json_object *req;
    bool raw = false;
    int fd, status;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        ctl_usage(stdout);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("minivmm-ctl %s\n", minivmm_version);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--json")) {
        raw = true;
        argv++, argc--;
    }
    if (argc < 3)
        return usage();
    /* minivmm may hang up mid-request (a rejected or too-long request):
     * report it as an error instead of dying of SIGPIPE (exit 141). */
    signal(SIGPIPE, SIG_IGN);
    if (!(c = lookup(argv[2])))
        return EXIT_BADCMD;
    if (!strcmp(argv[2], "console"))
        return argc == 3 ? ctl_console(argv[1]) : usage();
    req = ctl_build_request(c, argc - 3, argv + 3, CTL_ID);
    if (!req)
        return usage();
    fd = ctl_connect(argv[1]);
    if (fd < 0) {
        fprintf(stderr, "minivmm-ctl: %s: %s\n", argv[1], strerror(-fd));
        json_object_put(req);
        return EXIT_NOCONN;
    }
    status = run(fd, req, argv[2], raw);
    json_object_put(req);
    close(fd);
    return status;
}
