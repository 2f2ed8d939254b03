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

#include "vmm/config.h"
#include "vmm/host_limits.h"
#include "vmm/migration_fmt.h"
#include "vmm/migration_in.h"
#include "vmm/snapshot_fmt.h"
#include "vmm/vm.h"

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
    snap_header_encode(h, MIG_F_STREAM, 64 * TIB);
    if (write(fd, h, sizeof(h)) == (ssize_t)sizeof(h)) {
        while (read(fd, buf, sizeof(buf)) > 0) {
            /* until the destination hangs up */
        }
    }
    close(fd);
    return NULL;
}

static void test_incoming_refuses_huge_ram(void **state)
{
    char dir[] = "/tmp/minivmm-test-host-XXXXXX", uri[160];
    struct vm_config cfg;
    struct vm *vm = NULL;
    struct peer p;
    char err[512] = "";
    pthread_t t;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(p.path, sizeof(p.path), "%s/mig", dir);
    snprintf(uri, sizeof(uri), "unix:%s", p.path);
    memset(&cfg, 0, sizeof(cfg));
    cfg.incoming = uri;
    assert_int_equal(pthread_create(&t, NULL, source, &p), 0);
    assert_int_equal(migration_incoming(&cfg, &vm, err, sizeof(err)),
                     -EINVAL);
    pthread_join(t, NULL);
    assert_null(vm);
    if (!strstr(err, "the migration stream asks for 67108864 MiB"))
        fail_msg("unexpected reason: %s", err);
    unlink(p.path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_incoming_refuses_huge_ram),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
