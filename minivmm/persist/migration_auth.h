/* SPDX-License-Identifier: BSD-3-Clause */
/* Binding a migration connection to a shared token (docs/migration.md,
 * "Authentication"). With a token on both sides (",token=SECRET" or
 * ",token-file=PATH" on `--incoming` and on `migrate`), the destination
 * opens the connection with a challenge, MIG_AUTH_MAGIC + 32 random bytes
 * (getrandom(2)); the source answers MIG_AUTH_MAGIC +
 * HMAC-SHA256(token, nonce || "minivmm migration v1") (RFC 2104, OpenSSL's
 * libcrypto), which the destination checks in constant time before it
 * reads anything else. A recorded stream cannot be replayed (the nonce is
 * new each time) and a peer without the token is refused. It does not
 * encrypt nor protect the rest of the stream: across untrusted networks,
 * carry it over TLS or SSH (e.g. socat/stunnel on both sides).
 */
#ifndef MINIVMM_MIGRATION_AUTH_H
#define MINIVMM_MIGRATION_AUTH_H

#include <stddef.h>

#include "minivmm/persist/migration_net.h"

#define MIG_AUTH_MAGIC "MVMMIGA\n"
#define MIG_AUTH_NONCE 32
#define MIG_AUTH_MAC 32

/* Destination, right after accept: challenge the source on @fd when @u
 * has a token (no-op otherwise). 0 when the answer proves the token;
 * -EACCES (wrong or missing answer), -EIO/-ETIMEDOUT/-EPIPE (transport)
 * or -ENOENT/-EINVAL (token file) with the reason in @err. */
int mig_auth_challenge(int fd, const struct mig_uri *u, char *err,
                       size_t errlen);

/* Source, right after connect: answer the destination's challenge on @fd
 * when @u has a token (no-op otherwise). 0 or -errno with the reason in
 * @err (e.g. -ETIMEDOUT: the destination sent no challenge; it has no
 * token?). */
int mig_auth_respond(int fd, const struct mig_uri *u, char *err,
                     size_t errlen);

/* HMAC-SHA256(@key, @nonce || "minivmm migration v1") into @mac. Pure. */
void mig_auth_mac(const void *key, size_t keylen,
                  const unsigned char nonce[MIG_AUTH_NONCE],
                  unsigned char mac[MIG_AUTH_MAC]);

#endif
