/* SPDX-License-Identifier: BSD-3-Clause */
/* Migration token challenge (see migration_auth.h). */
#include "minivmm/persist/migration_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define CONTEXT "minivmm migration v1"

void mig_auth_mac(const void *key, size_t keylen,
                  const unsigned char nonce[MIG_AUTH_NONCE],
                  unsigned char mac[MIG_AUTH_MAC])
{
    unsigned char msg[MIG_AUTH_NONCE + sizeof(CONTEXT) - 1];
    unsigned int len = MIG_AUTH_MAC;

    memcpy(msg, nonce, MIG_AUTH_NONCE);
    memcpy(msg + MIG_AUTH_NONCE, CONTEXT, sizeof(CONTEXT) - 1);
    HMAC(EVP_sha256(), key, (int)keylen, msg, sizeof(msg), mac, &len);
}

/* The token of @u into @key (at most MIG_TOKEN_MAX bytes; a token file's
 * trailing newline is dropped). Its length, 0 when @u has none, or -errno
 * with the reason in @err. */
static int load_token(const struct mig_uri *u, char *key, char *err,
                      size_t errlen)
{
    ssize_t n;
    int fd;

    if (u->token[0]) {
        memcpy(key, u->token, strlen(u->token));
        return (int)strlen(u->token);
    }
    if (!u->token_file[0])
        return 0;
    fd = open(u->token_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int r = -errno;

        snprintf(err, errlen, "token-file %s: %s", u->token_file,
                 strerror(-r));
        return r;
    }
    n = read(fd, key, MIG_TOKEN_MAX + 1);
    close(fd);
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
        n--;
    if (n <= 0 || n > MIG_TOKEN_MAX) {
        snprintf(err, errlen, "token-file %s: want 1 to %d bytes",
                 u->token_file, MIG_TOKEN_MAX);
        return -EINVAL;
    }
    return (int)n;
}

int mig_auth_challenge(int fd, const struct mig_uri *u, char *err,
                       size_t errlen)
{
    unsigned char msg[8 + MIG_AUTH_NONCE], ans[8 + MIG_AUTH_MAC];
    unsigned char want[MIG_AUTH_MAC];
    char key[MIG_TOKEN_MAX + 1];
    int klen = load_token(u, key, err, errlen), r;

    if (klen <= 0)
        return klen;
    memcpy(msg, MIG_AUTH_MAGIC, 8);
    if (getrandom(msg + 8, MIG_AUTH_NONCE, 0) != MIG_AUTH_NONCE) {
        snprintf(err, errlen, "getrandom: %s", strerror(errno));
        return -EIO;
    }
    r = mig_send(fd, msg, sizeof(msg));
    if (r == 0)
        r = mig_recv(fd, ans, sizeof(ans));
    if (r < 0) {
        snprintf(err, errlen, "authenticating the source: %s",
                 strerror(-r));
        return r;
    }
    mig_auth_mac(key, (size_t)klen, msg + 8, want);
    OPENSSL_cleanse(key, sizeof(key));
    if (memcmp(ans, MIG_AUTH_MAGIC, 8) ||
        CRYPTO_memcmp(ans + 8, want, MIG_AUTH_MAC)) {
        snprintf(err, errlen, "the source did not prove the migration "
                 "token (none, or a different one): refused");
        return -EACCES;
    }
    return 0;
}

int mig_auth_respond(int fd, const struct mig_uri *u, char *err,
                     size_t errlen)
{
    unsigned char msg[8 + MIG_AUTH_NONCE], ans[8 + MIG_AUTH_MAC];
    char key[MIG_TOKEN_MAX + 1];
    int klen = load_token(u, key, err, errlen), r;

    if (klen <= 0)
        return klen;
    r = mig_recv(fd, msg, sizeof(msg));
    if (r == 0 && memcmp(msg, MIG_AUTH_MAGIC, 8))
        r = -EPROTO;
    if (r < 0) {
        snprintf(err, errlen, "no token challenge from the destination "
                 "(%s): was it started with the same token?",
                 strerror(-r));
        OPENSSL_cleanse(key, sizeof(key));
        return r;
    }
    memcpy(ans, MIG_AUTH_MAGIC, 8);
    mig_auth_mac(key, (size_t)klen, msg + 8, ans + 8);
    OPENSSL_cleanse(key, sizeof(key));
    r = mig_send(fd, ans, sizeof(ans));
    if (r < 0)
        snprintf(err, errlen, "answering the token challenge: %s",
                 strerror(-r));
    return r;
}
