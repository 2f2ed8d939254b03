/* SPDX-License-Identifier: BSD-3-Clause */
/* Migration transports: unix:PATH and tcp:HOST:PORT (docs/migration.md),
 * and blocking whole-buffer I/O on the stream socket. */
#ifndef MINIVMM_MIGRATION_NET_H
#define MINIVMM_MIGRATION_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define MIG_URI_MAX 1024
#define MIG_TOKEN_MAX 256   /* bytes of a shared migration token */

enum mig_transport {
    MIG_UNIX = 1,
    MIG_TCP,
};

struct mig_uri {
    enum mig_transport kind;
    char path[108];         /* unix: sun_path */
    char host[256];         /* tcp: name or address ("[v6]" unbracketed) */
    char port[8];           /* tcp: 1..65535 */
    char token[MIG_TOKEN_MAX + 1];      /* ",token=SECRET": "" when none */
    char token_file[MIG_URI_MAX];       /* ",token-file=PATH": "" when none */
};

/* Parse @s: "unix:PATH" or "tcp:HOST:PORT", optionally followed by
 * ",token=SECRET" or ",token-file=PATH" (migration_auth.h). 0 or -EINVAL
 * with the reason in @err. Pure. */
int mig_uri_parse(const char *s, struct mig_uri *u, char *err,
                  size_t errlen);

/* Connect to @u, retrying a refused or absent peer for up to @wait_ms
 * (the destination may still be starting). 0 with a blocking socket in
 * *@fd, or -errno (reason in @err). */
int mig_connect(const struct mig_uri *u, unsigned int wait_ms, int *fd,
                char *err, size_t errlen);

/* Listen on @u (a stale unix socket file is replaced) into *@lfd. */
int mig_listen(const struct mig_uri *u, int *lfd, char *err, size_t errlen);
/* Accept one connection on @lfd (blocking) into *@fd; a unix socket path
 * is removed afterwards. */
int mig_accept(const struct mig_uri *u, int lfd, int *fd, char *err,
               size_t errlen);

/* Send all of @iov[0..@cnt) (modified) without SIGPIPE. 0 or -errno. */
/* Every later send/receive on @fd fails with -ETIMEDOUT when the peer
 * neither sends nor takes a byte for @ms milliseconds (SO_RCVTIMEO and
 * SO_SNDTIMEO, socket(7)). 0 or -errno. */
int mig_set_deadline(int fd, unsigned int ms);

#define MIG_DEFAULT_TIMEOUT_MS 30000 /* --migrate-timeout-ms default */

int mig_sendv(int fd, struct iovec *iov, int cnt);
int mig_send(int fd, const void *buf, size_t len);
/* Receive exactly @len bytes. 0, -EPIPE on EOF, or -errno. */
int mig_recv(int fd, void *buf, size_t len);
/* Receive into @iov (modified) completely. */
int mig_recvv(int fd, struct iovec *iov, int cnt);
/* Wait (polling every 200 µs) until what was sent on @fd has been taken
 * by the peer: SIOCOUTQ (unix: bytes not yet read; TCP: not yet acked)
 * at most @slack bytes, for at most @max_us µs. Before the stop, so that
 * the final pass does not queue behind pre-copy's backlog (up to the 4
 * MiB socket buffer: tens of ms of the downtime on a busy host). The
 * bytes still queued (0 when drained) or -errno. */
long mig_drain(int fd, long slack, uint64_t max_us);

#endif
