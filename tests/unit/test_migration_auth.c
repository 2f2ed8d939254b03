/* SPDX-License-Identifier: BSD-3-Clause */
/* Migration token challenge (vmm/migration_auth.h) and the URI token
 * options: the MAC against an independent HMAC-SHA256 (Python's hmac),
 * right / wrong / missing tokens over a socket pair, and a replayed answer
 * refused under a new nonce. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "minivmm/persist/migration_auth.h"
#include "minivmm/persist/migration_net.h"

static void test_mac_vector(void **state)
{
    /* hmac.new(b"sesame", bytes(range(32)) + b"minivmm migration v1",
     *          hashlib.sha256).hexdigest() */
    static const char want[] =
        "0c54208f7560fe0b84fa231335a36dd88a67b9bc7408983ffbcca3db43635fd7";
    unsigned char nonce[MIG_AUTH_NONCE], mac[MIG_AUTH_MAC];
    char hex[2 * MIG_AUTH_MAC + 1];

    (void)state;
    for (unsigned int i = 0; i < MIG_AUTH_NONCE; i++)
        nonce[i] = (unsigned char)i;
    mig_auth_mac("sesame", 6, nonce, mac);
    for (unsigned int i = 0; i < MIG_AUTH_MAC; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(hex, want);
}

static void test_uri_tokens(void **state)
{
    struct mig_uri u;
    char err[256];

    (void)state;
    assert_int_equal(mig_uri_parse("tcp:h:4444,token=s3cret", &u, err,
                                   sizeof(err)), 0);
    assert_string_equal(u.host, "h");
    assert_string_equal(u.port, "4444");
    assert_string_equal(u.token, "s3cret");
    assert_int_equal(mig_uri_parse("unix:/tmp/m,token-file=/etc/t", &u, err,
                                   sizeof(err)), 0);
    assert_string_equal(u.path, "/tmp/m");
    assert_string_equal(u.token_file, "/etc/t");
    assert_int_equal(mig_uri_parse("unix:/tmp/m,token=", &u, err,
                                   sizeof(err)), -EINVAL);
    assert_int_equal(mig_uri_parse("unix:/tmp/m,tokens=x", &u, err,
                                   sizeof(err)), -EINVAL);
}

struct side {
    int fd;
    const char *uri;
    int r;
    char err[256];
};

static void *source(void *arg)
{
    struct side *s = arg;
    struct mig_uri u;

    mig_uri_parse(s->uri, &u, s->err, sizeof(s->err));
    s->r = mig_auth_respond(s->fd, &u, s->err, sizeof(s->err));
    if (!u.token[0]) /* a source without a token sends its header */
        s->r = mig_send(s->fd, "MVMSNAP\n0123456789abcdef0123456789ab"
                        "cdef01", 40);
    return NULL;
}

/* Destination with @dst_uri, source with @src_uri: the destination's
 * result. */
static int run_pair(const char *dst_uri, const char *src_uri, char *err)
{
    struct side s = { .uri = src_uri };
    struct mig_uri u;
    pthread_t t;
    int sv[2], r;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(mig_set_deadline(sv[0], 2000), 0);
    assert_int_equal(mig_set_deadline(sv[1], 2000), 0);
    s.fd = sv[1];
    assert_int_equal(mig_uri_parse(dst_uri, &u, err, 256), 0);
    assert_int_equal(pthread_create(&t, NULL, source, &s), 0);
    r = mig_auth_challenge(sv[0], &u, err, 256);
    shutdown(sv[0], SHUT_RDWR);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    return r;
}

static void test_challenge(void **state)
{
    char err[256];

    (void)state;
    assert_int_equal(run_pair("unix:/x,token=abc", "unix:/x,token=abc", err),
                     0);
    assert_int_equal(run_pair("unix:/x,token=abc", "unix:/x,token=abd", err),
                     -EACCES);
    assert_non_null(strstr(err, "did not prove the migration token"));
    assert_int_equal(run_pair("unix:/x,token=abc", "unix:/x", err),
                     -EACCES);
    assert_int_equal(run_pair("unix:/x", "unix:/x", err), 0); /* no-op */
}

/* An answer recorded from one connection does not open another. */
static void test_replay(void **state)
{
    unsigned char c1[8 + MIG_AUTH_NONCE], a1[8 + MIG_AUTH_MAC], c2[40];
    struct mig_uri u;
    char err[256];
    int sv[2];

    (void)state;
    assert_int_equal(mig_uri_parse("unix:/x,token=abc", &u, err,
                                   sizeof(err)), 0);
    /* Connection 1: record the challenge, answer it properly. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memcpy(c1, MIG_AUTH_MAGIC, 8);
    memset(c1 + 8, 7, MIG_AUTH_NONCE);
    assert_int_equal(write(sv[0], c1, sizeof(c1)), (ssize_t)sizeof(c1));
    assert_int_equal(mig_auth_respond(sv[1], &u, err, sizeof(err)), 0);
    assert_int_equal(read(sv[0], a1, sizeof(a1)), (ssize_t)sizeof(a1));
    close(sv[0]);
    close(sv[1]);
    /* Connection 2: a fresh challenge, the recorded answer replayed. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], a1, sizeof(a1)), (ssize_t)sizeof(a1));
    assert_int_equal(mig_auth_challenge(sv[0], &u, err, sizeof(err)),
                     -EACCES);
    assert_int_equal(read(sv[1], c2, sizeof(c2)), (ssize_t)sizeof(c2));
    assert_memory_not_equal(c2 + 8, c1 + 8, MIG_AUTH_NONCE);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_vector),
        cmocka_unit_test(test_uri_tokens),
        cmocka_unit_test(test_challenge),
        cmocka_unit_test(test_replay),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
