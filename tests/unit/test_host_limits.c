/* SPDX-License-Identifier: BSD-3-Clause */
/* Host limits on every path that builds a VM (vmm/host_limits.h): the
 * command line, and a migration stream whose header asks for more RAM
 * than the host has (the destination must refuse it before allocating or
 * creating anything). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "minivmm/config.h"
#include "vmm/host_limits.h"
#include "minivmm/persist/migration_fmt.h"
#include "minivmm/migration_in.h"
#include "minivmm/persist/snapshot_fmt.h"
#include "minivmm/vm.h"

#define TIB (1ull << 40)

static void test_memory(void **state)
{
    char err[256] = "";

    (void)state;
    assert_int_equal(host_check_memory(64ull << 20, "--memory", err,
                                       sizeof(err)), 0);
    assert_int_equal(host_check_memory(64 * TIB, "the snapshot", err,
                                       sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "the snapshot asks for 67108864 MiB"));
}

struct peer {
    char path[108];
    uint64_t ram;           /* what the stream header asks for */
};

/* An unauthenticated source: a valid 64-byte stream header asking for
 * 64 TiB of guest RAM, then silence. */
static void *source(void *arg)
{
    struct peer *p = arg;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    uint8_t h[SNAP_HEADER_SIZE];
    char buf[64];
    int fd = -1;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->path);
    for (int i = 0; i < 200 && fd < 0; i++) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            close(fd);
            fd = -1;
            usleep(10000);
        }
    }
    if (fd < 0)
        return NULL;
    snap_header_encode(h, MIG_F_STREAM, p->ram);
    if (write(fd, h, sizeof(h)) == (ssize_t)sizeof(h)) {
        while (read(fd, buf, sizeof(buf)) > 0) {
            /* until the destination hangs up */
        }
    }
    close(fd);
    return NULL;
}

/* An --incoming destination given @cfg, fed a header asking for @ram:
 * migration_incoming()'s result, the reason in @err. */
static int incoming(struct vm_config *cfg, uint64_t ram, char *err,
                    size_t errlen)
{
    char dir[] = "/tmp/minivmm-test-host-XXXXXX", uri[160];
    struct vm *vm = NULL;
    struct peer p = { .ram = ram };
    pthread_t t;
    int r;

    assert_non_null(mkdtemp(dir));
    snprintf(p.path, sizeof(p.path), "%s/mig", dir);
    snprintf(uri, sizeof(uri), "unix:%s", p.path);
    cfg->incoming = uri;
    assert_int_equal(pthread_create(&t, NULL, source, &p), 0);
    r = migration_incoming(cfg, &vm, err, errlen);
    pthread_join(t, NULL);
    assert_null(vm);
    unlink(p.path);
    rmdir(dir);
    return r;
}

static void test_incoming_refuses_huge_ram(void **state)
{
    struct vm_config cfg;
    char err[512] = "";

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(incoming(&cfg, 64 * TIB, err, sizeof(err)), -EINVAL);
    if (!strstr(err, "the migration stream asks for 67108864 MiB"))
        fail_msg("unexpected reason: %s", err);
}

/* --incoming --memory 128M is a check against the stream, not ignored. */
static void test_incoming_memory_must_match(void **state)
{
    struct vm_config cfg;
    char err[512] = "";

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.memory = 128ull << 20;
    cfg.memory_given = true;
    assert_int_equal(incoming(&cfg, 256ull << 20, err, sizeof(err)),
                     -EINVAL);
    if (!strstr(err, "has 256 MiB of guest RAM, --memory says 128 MiB"))
        fail_msg("unexpected reason: %s", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_incoming_refuses_huge_ram),
        cmocka_unit_test(test_incoming_memory_must_match),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
