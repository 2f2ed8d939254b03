/* SPDX-License-Identifier: BSD-3-Clause */
/* Control API request parser (vmm/api_parse.c) and the socket server
 * (vmm/api.c) over a real event loop and a fake VM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "minivmm/api.h"
#include "vmm/evloop.h"

static int parse(const char *s, struct api_request *r, char *err)
{
    return api_parse_request(s, strlen(s), r, err, 128);
}

static void test_parse_ok(void **state)
{
    struct api_request r;
    char err[128];

    (void)state;
    assert_int_equal(parse("{\"id\":7,\"cmd\":\"pause\"}", &r, err), 0);
    assert_true(r.has_id);
    assert_int_equal(r.id, 7);
    assert_int_equal(r.cmd, API_CMD_PAUSE);
    assert_int_equal(parse("{\"cmd\":\"status\"}", &r, err), 0);
    assert_false(r.has_id);
    assert_int_equal(parse("{\"id\":-3,\"cmd\":\"snapshot\",\"file\":"
                           "\"/tmp/x\"}", &r, err), 0);
    assert_int_equal(r.cmd, API_CMD_SNAPSHOT);
    assert_string_equal(r.file, "/tmp/x");
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\"}", &r,
                           err), 0);
    assert_string_equal(r.uri, "unix:/a");
    assert_int_equal(r.mig_downtime_ms, 0);
    assert_int_equal(r.mig_auto_converge, -1);
    assert_int_equal(r.mig_rt_boost, -1);
    assert_int_equal(r.mig_max_bandwidth, 0);
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\","
                           "\"downtime-ms\":5,\"auto-converge\":false,"
                           "\"max-bandwidth\":33554432,\"rt-boost\":false}",
                           &r, err), 0);
    assert_int_equal(r.mig_downtime_ms, 5);
    assert_int_equal(r.mig_auto_converge, 0);
    assert_int_equal(r.mig_rt_boost, 0);
    assert_int_equal(r.mig_max_bandwidth, 33554432);
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\","
                           "\"rt-boost\":true}", &r, err), 0);
    assert_int_equal(r.mig_rt_boost, 1);
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\","
                           "\"rt-boost\":\"on\"}", &r, err), -EINVAL);
    assert_non_null(strstr(err, "rt-boost"));
    /* Out of range or of the wrong type: refused, naming the key. */
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\","
                           "\"downtime-ms\":0}", &r, err), -EINVAL);
    assert_non_null(strstr(err, "downtime-ms"));
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\","
                           "\"max-bandwidth\":1000}", &r, err), -EINVAL);
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\","
                           "\"auto-converge\":1}", &r, err), -EINVAL);
    assert_int_equal(parse("{\"cmd\":\"migrate\",\"uri\":\"unix:/a\","
                           "\"downtime-ms\":\"5\"}", &r, err), -EINVAL);
    for (int c = 0; c < API_CMD_COUNT; c++) {
        char line[96];

        if (c == API_CMD_SNAPSHOT || c == API_CMD_MIGRATE ||
            c == API_CMD_DEVICE_ADD || c == API_CMD_DEVICE_REMOVE)
            continue;
        snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}",
                 api_cmd_name((enum api_cmd)c));
        assert_int_equal(parse(line, &r, err), 0);
        assert_int_equal(r.cmd, c);
    }
}

/* device-add / device-remove: "args" to the option text. */
static void test_parse_device(void **state)
{
    struct api_request r;
    char err[128];

    (void)state;
    assert_int_equal(parse("{\"id\":2,\"cmd\":\"device-add\",\"args\":{"
                           "\"type\":\"disk\",\"path\":\"/d.img\",\"id\":"
                           "\"d1\",\"readonly\":true,\"slot\":5,\"x\":"
                           "false}}", &r, err), 0);
    assert_int_equal(r.cmd, API_CMD_DEVICE_ADD);
    assert_string_equal(r.dev_type, "disk");
    assert_string_equal(r.dev_args, "path=/d.img,id=d1,readonly,slot=5");
    assert_int_equal(parse("{\"cmd\":\"device-remove\",\"args\":{\"id\":"
                           "\"d1\",\"timeout\":250}}", &r, err), 0);
    assert_string_equal(r.dev_id, "d1");
    assert_int_equal(r.timeout_ms, 250);
    assert_int_equal(parse("{\"cmd\":\"device-remove\",\"args\":{\"id\":"
                           "\"d1\"}}", &r, err), 0);
    assert_int_equal(r.timeout_ms, 0);
    /* Refused: no args, args not an object, no type, a comma in a
     * value, a key with '=', a nested value, bad timeouts, no id. */
    static const char *const bad[] = {
        "{\"cmd\":\"device-add\"}",
        "{\"cmd\":\"device-add\",\"args\":[]}",
        "{\"cmd\":\"device-add\",\"args\":{\"id\":\"x\"}}",
        "{\"cmd\":\"device-add\",\"args\":{\"type\":\"disk\",\"path\":"
        "\"/a,readonly\"}}",
        "{\"cmd\":\"device-add\",\"args\":{\"type\":\"disk\",\"a=b\":1}}",
        "{\"cmd\":\"device-add\",\"args\":{\"type\":\"disk\",\"p\":{}}}",
        "{\"cmd\":\"device-add\",\"args\":{\"type\":\"disk\",\"p\":1.5}}",
        "{\"cmd\":\"device-remove\",\"args\":{}}",
        "{\"cmd\":\"device-remove\",\"args\":{\"id\":\"x\",\"timeout\":0}}",
        "{\"cmd\":\"device-remove\",\"args\":{\"id\":\"x\",\"timeout\":"
        "\"5\"}}",
        "{\"cmd\":\"device-remove\",\"args\":{\"id\":\"this-id-is-far-too-"
        "long\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(parse(bad[i], &r, err), -EINVAL);
        assert_true(err[0] != 0);
    }
}

static void test_parse_bad(void **state)
{
    static const char *const bad[] = {
        "", "{", "[]", "42", "{\"id\":1}", "{\"cmd\":5}",
        "{\"cmd\":\"dance\"}", "{\"id\":\"x\",\"cmd\":\"pause\"}",
        "{\"cmd\":\"snapshot\"}", "{\"cmd\":\"snapshot\",\"file\":\"\"}",
        "{\"cmd\":\"snapshot\",\"file\":7}", "{\"cmd\":\"pause\"} {}",
        "{\"cmd\":\"pause\"}x", "{\"id\":1.5,\"cmd\":\"pause\"}",
        /* beyond +-(2^53 - 1), and beyond int64 (json-c would clamp) */
        "{\"id\":9007199254740992,\"cmd\":\"pause\"}",
        "{\"id\":-9007199254740992,\"cmd\":\"pause\"}",
        "{\"id\":99999999999999999999,\"cmd\":\"pause\"}",
        "{\"id\":-99999999999999999999,\"cmd\":\"pause\"}",
    };
    struct api_request r;
    char err[128];

    (void)state;
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(parse(bad[i], &r, err), -EINVAL);
        assert_true(err[0] != 0);
    }
    assert_int_equal(parse("{\"id\":9,\"cmd\":\"dance\"}", &r, err),
                     -EINVAL);
    assert_true(r.has_id); /* so the error reply can carry it */
    assert_non_null(strstr(err, "unknown command"));
    assert_int_equal(parse("{\"id\":9007199254740991,\"cmd\":\"pause\"}",
                           &r, err), 0);
    assert_true(r.id == 9007199254740991LL);
}

static void test_parse_long(void **state)
{
    size_t n = API_LINE_MAX + 10;
    char *line = malloc(n + 1);
    struct api_request r;
    char err[128];

    (void)state;
    assert_non_null(line);
    memset(line, ' ', n);
    line[n] = 0;
    assert_int_equal(api_parse_request(line, n, &r, err, sizeof(err)),
                     -EINVAL);
    free(line);
}

struct fake_vm {
    int pauses, quits;
    const char *state;
};

static void f_status(void *o, struct api_status *st)
{
    struct fake_vm *f = o;

    st->state = f->state;
    st->cpus = 3;
    st->memory = 1 << 20;
}

static int f_pause(void *o, char *err, size_t errlen)
{
    struct fake_vm *f = o;

    (void)err, (void)errlen;
    f->pauses++;
    f->state = "paused";
    return 0;
}

static int f_resume(void *o, char *err, size_t errlen)
{
    (void)o;
    snprintf(err, errlen, "cannot resume while testing");
    return -EBUSY;
}

static int f_snapshot(void *o, const char *path, char *err, size_t errlen)
{
    (void)o, (void)path, (void)err, (void)errlen;
    return 0;
}

static struct evloop *test_loop;

static void f_quit(void *o)
{
    ((struct fake_vm *)o)->quits++;
    evloop_quit(test_loop);
}

static const struct api_ops fops = {
    .status = f_status, .pause = f_pause, .resume = f_resume,
    .snapshot = f_snapshot, .quit = f_quit, /* no migration: NULL ops */
};

struct client {
    char path[64];
    char replies[4][256];
};

/* Read one line from @fd into @buf. */
static void read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;

    while (n + 1 < len && read(fd, buf + n, 1) == 1 && buf[n] != '\n')
        n++;
    buf[n] = 0;
}

static void *client_thread(void *arg)
{
    static const char *const reqs[] = {
        "{\"id\":1,\"cmd\":\"status\"}\n",
        "{\"id\":2,\"cmd\":\"pause\"}\r\n",
        "{\"id\":3,\"cmd\":\"resume\"}\n{\"cmd\":\"bogus\"}\n",
        "{\"id\":5,\"cmd\":\"quit\"}\n",
    };
    struct client *c = arg;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(sa.sun_path, c->path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return NULL;
    for (unsigned int i = 0; i < 4; i++) {
        if (write(fd, reqs[i], strlen(reqs[i])) < 0)
            break;
        read_line(fd, c->replies[i], 128);
        if (i == 2) /* the bogus request's reply, after resume's */
            read_line(fd, c->replies[i] + 128, 128);
    }
    close(fd);
    return NULL;
}

static void test_server(void **state)
{
    struct fake_vm f = { .state = "running" };
    char dir[] = "/tmp/minivmm-test-api-XXXXXX";
    struct client c;
    struct api *a;
    pthread_t t;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(c.path, sizeof(c.path), "%s/s", dir);
    memset(c.replies, 0, sizeof(c.replies));
    assert_int_equal(evloop_create(&test_loop), 0);
    assert_int_equal(api_create(test_loop, c.path, &fops, &f, &a), 0);
    assert_int_equal(pthread_create(&t, NULL, client_thread, &c), 0);
    assert_int_equal(evloop_run(test_loop), 0);
    pthread_join(t, NULL);
    assert_string_equal(c.replies[0], "{\"id\":1,\"ok\":true,\"state\":"
                        "\"running\",\"cpus\":3,\"memory\":1048576}");
    assert_string_equal(c.replies[1], "{\"id\":2,\"ok\":true}");
    assert_int_equal(f.pauses, 1);
    assert_string_equal(c.replies[2], "{\"id\":3,\"error\":\"cannot "
                        "resume while testing\"}");
    assert_non_null(strstr(c.replies[2] + 128, "unknown command"));
    assert_string_equal(c.replies[3], "{\"id\":5,\"ok\":true}");
    assert_int_equal(f.quits, 1);
    api_destroy(a);
    assert_int_equal(access(c.path, F_OK), -1); /* unlinked */
    evloop_destroy(test_loop);
    rmdir(dir);
}

static int connect_path(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* An empty line gets an error; an over-long line one error, then EOF. */
static void *guard_thread(void *arg)
{
    struct client *c = arg;
    char big[API_LINE_MAX + 512];
    int fd = connect_path(c->path);

    if (fd < 0)
        return NULL;
    if (write(fd, "\n", 1) == 1)
        read_line(fd, c->replies[0], 256);
    memset(big, 'x', sizeof(big));
    if (write(fd, big, sizeof(big)) > 0) {
        read_line(fd, c->replies[1], 256);
        /* hung up: EOF, or a reset (it closed with our bytes unread) */
        ssize_t n = read(fd, c->replies[2], 1);

        if (n == 0 || (n < 0 && errno == ECONNRESET))
            strcpy(c->replies[2], "EOF");
    }
    close(fd);
    fd = connect_path(c->path);
    if (fd >= 0 && write(fd, "{\"cmd\":\"quit\"}\n", 15) == 15)
        read_line(fd, c->replies[3], 256);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void test_server_guards(void **state)
{
    struct fake_vm f = { .state = "running" };
    char dir[] = "/tmp/minivmm-test-api-XXXXXX";
    struct client c;
    struct api *a, *b;
    struct stat st;
    pthread_t t;
    int stale;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(c.path, sizeof(c.path), "%s/s", dir);
    memset(c.replies, 0, sizeof(c.replies));
    /* A stale socket (nobody listens) is replaced... */
    stale = socket(AF_UNIX, SOCK_STREAM, 0);
    {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        strcpy(sa.sun_path, c.path);
        assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(stale);
    }
    assert_int_equal(evloop_create(&test_loop), 0);
    assert_int_equal(api_create(test_loop, c.path, &fops, &f, &a), 0);
    /* ...owner-only; a live one is refused, not stolen. */
    assert_int_equal(stat(c.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(api_create(test_loop, c.path, &fops, &f, &b),
                     -EADDRINUSE);
    assert_int_equal(pthread_create(&t, NULL, guard_thread, &c), 0);
    assert_int_equal(evloop_run(test_loop), 0);
    pthread_join(t, NULL);
    assert_string_equal(c.replies[0], "{\"error\":\"empty request\"}");
    assert_string_equal(c.replies[1], "{\"error\":\"request too long\"}");
    assert_string_equal(c.replies[2], "EOF");
    assert_string_equal(c.replies[3], "{\"ok\":true}");
    api_destroy(a);
    evloop_destroy(test_loop);
    rmdir(dir);
}

/* Eight silent clients do not lock management out: past the idle limit
 * the longest-silent one makes room for a new client. */
static void *idle_thread(void *arg)
{
    struct client *c = arg;
    int fds[API_MAX_CLIENTS], fd;

    for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
        fds[i] = connect_path(c->path);
    usleep(300 * 1000);
    fd = connect_path(c->path);
    if (fd >= 0 && write(fd, "{\"id\":1,\"cmd\":\"status\"}\n", 24) == 24)
        read_line(fd, c->replies[0], 256);
    if (fd >= 0 && write(fd, "{\"cmd\":\"quit\"}\n", 15) == 15)
        read_line(fd, c->replies[1], 256);
    if (fd >= 0)
        close(fd);
    for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return NULL;
}

static void test_idle_eviction(void **state)
{
    struct fake_vm f = { .state = "running" };
    char dir[] = "/tmp/minivmm-test-api-XXXXXX";
    struct client c;
    struct api *a;
    pthread_t t;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(c.path, sizeof(c.path), "%s/s", dir);
    memset(c.replies, 0, sizeof(c.replies));
    assert_int_equal(evloop_create(&test_loop), 0);
    assert_int_equal(api_create(test_loop, c.path, &fops, &f, &a), 0);
    api_set_idle_limit(a, 200);
    assert_int_equal(pthread_create(&t, NULL, idle_thread, &c), 0);
    assert_int_equal(evloop_run(test_loop), 0);
    pthread_join(t, NULL);
    assert_non_null(strstr(c.replies[0], "\"id\":1,\"ok\":true"));
    assert_string_equal(c.replies[1], "{\"ok\":true}");
    api_destroy(a);
    evloop_destroy(test_loop);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_device),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_server_guards),
        cmocka_unit_test(test_idle_eviction),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
