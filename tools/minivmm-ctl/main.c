/* minivmm-ctl: command-line client of the control API (docs/api.md).
 *
 *   minivmm-ctl PATH status|pause|resume|snapshot FILE|quit
 *                    |migrate URI|migrate-status|migrate-cancel
 *
 * Sends one request, waits for the reply with its id (events before it
 * are skipped), prints the reply's fields as "key: value" lines (status)
 * or "ok", and exits 0; on {"error":...} prints it and exits 1; 2 for a
 * bad command line; 3 when the socket cannot be reached or the reply is
 * not understood.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_ID 1
#define EXIT_BADCMD 2
#define EXIT_NOCONN 3

static int usage(void)
{
    fprintf(stderr, "usage: minivmm-ctl SOCKET status|pause|resume|"
            "snapshot FILE|quit|migrate URI|migrate-status|"
            "migrate-cancel\n");
    return EXIT_BADCMD;
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    return fd;
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

/* Read lines until the reply carrying our id; NULL on EOF or junk. */
static struct json_object *read_reply(int fd)
{
    static char buf[65536];
    size_t len = 0;

    for (;;) {
        char *nl;
        ssize_t n;

        while ((nl = memchr(buf, '\n', len))) {
            struct json_object *o, *id;

            *nl = 0;
            o = json_tokener_parse(buf);
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len);
            if (o && json_object_object_get_ex(o, "id", &id) &&
                json_object_get_int(id) == CTL_ID)
                return o;
            if (o && json_object_object_get_ex(o, "error", NULL) &&
                !json_object_object_get_ex(o, "event", NULL))
                return o; /* an error without an id (e.g. busy) */
            json_object_put(o);
        }
        if (len == sizeof(buf))
            return NULL;
        n = read(fd, buf + len, sizeof(buf) - len);
        if (n <= 0)
            return NULL;
        len += (size_t)n;
    }
}

static int print_reply(struct json_object *reply)
{
    struct json_object *e;
    int fields = 0;

    if (json_object_object_get_ex(reply, "error", &e)) {
        fprintf(stderr, "minivmm-ctl: %s\n", json_object_get_string(e));
        return 1;
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
    const char *line;
    int fd, status;

    if (argc < 3)
        return usage();
    req = build_request(argc, argv);
    if (!req)
        return usage();
    fd = connect_to(argv[1]);
    if (fd < 0) {
        fprintf(stderr, "minivmm-ctl: %s: %s\n", argv[1], strerror(-fd));
        json_object_put(req);
        return EXIT_NOCONN;
    }
    line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    if (dprintf(fd, "%s\n", line) < 0) {
        fprintf(stderr, "minivmm-ctl: sending: %s\n", strerror(errno));
        status = EXIT_NOCONN;
    } else if (!(reply = read_reply(fd))) {
        fprintf(stderr, "minivmm-ctl: no reply (minivmm gone?)\n");
        status = EXIT_NOCONN;
    } else {
        status = print_reply(reply);
        json_object_put(reply);
    }
    json_object_put(req);
    close(fd);
    return status;
}
