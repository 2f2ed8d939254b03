/* SPDX-License-Identifier: BSD-3-Clause */
/* Migration transports (see migration_net.h). */
#include "minivmm/persist/migration_net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/iov.h"

#define SOCK_BUF (4 << 20)

static int parse_tcp(const char *s, struct mig_uri *u, char *err,
                     size_t errlen)
{
    const char *colon = strrchr(s, ':'), *h = s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    char *end;
    unsigned long port;

    if (!colon || !hl || !colon[1])
        goto bad;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']')
        h++, hl -= 2;
    port = strtoul(colon + 1, &end, 10);
    if (*end || port == 0 || port > 65535 || hl == 0 ||
        hl >= sizeof(u->host))
        goto bad;
    memcpy(u->host, h, hl);
    u->host[hl] = 0;
    snprintf(u->port, sizeof(u->port), "%lu", port);
    u->kind = MIG_TCP;
    return 0;
bad:
    snprintf(err, errlen, "'tcp:%s': want tcp:HOST:PORT", s);
    return -EINVAL;
}

/* The ",token=..." / ",token-file=..." suffix of @s, cut off into @u. */
static int parse_options(char *s, struct mig_uri *u, char *err,
                         size_t errlen)
{
    char *comma = strstr(s, ",token");

    if (!comma)
        return 0;
    *comma++ = 0;
    if (!strncmp(comma, "token=", 6) && comma[6] &&
        strlen(comma + 6) <= MIG_TOKEN_MAX && !strchr(comma + 6, ',')) {
        strcpy(u->token, comma + 6);
        return 0;
    }
    if (!strncmp(comma, "token-file=", 11) && comma[11] &&
        !strchr(comma + 11, ',')) {
        strcpy(u->token_file, comma + 11);
        return 0;
    }
    snprintf(err, errlen, "'%s': want token=SECRET (1 to %d bytes) or "
             "token-file=PATH", comma, MIG_TOKEN_MAX);
    return -EINVAL;
}

int mig_uri_parse(const char *str, struct mig_uri *u, char *err,
                  size_t errlen)
{
    char s[MIG_URI_MAX];

    memset(u, 0, sizeof(*u));
    if (strlen(str) >= sizeof(s)) {
        snprintf(err, errlen, "migration URI too long (at most %d bytes)",
                 MIG_URI_MAX - 1);
        return -EINVAL;
    }
    strcpy(s, str);
    if (parse_options(s, u, err, errlen) < 0)
        return -EINVAL;
    if (!strncmp(s, "unix:", 5)) {
        if (!s[5] || strlen(s + 5) >= sizeof(u->path)) {
            snprintf(err, errlen, "'%s': want unix:PATH (at most %zu "
                     "bytes)", s, sizeof(u->path) - 1);
            return -EINVAL;
        }
        strcpy(u->path, s + 5);
        u->kind = MIG_UNIX;
        return 0;
    }
    if (!strncmp(s, "tcp:", 4))
        return parse_tcp(s + 4, u, err, errlen);
    snprintf(err, errlen, "'%s': unknown transport (want unix:PATH or "
             "tcp:HOST:PORT)", s);
    return -EINVAL;
}

static void tune(int fd, bool tcp)
{
    int one = 1, sz = SOCK_BUF;

    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    if (tcp)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* One attempt: a connected socket, or -errno. */
static int try_connect(const struct mig_uri *u, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, r;

    if (u->kind == MIG_UNIX) {
        strcpy(sa.sun_path, u->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        tune(fd, false);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        r = -errno;
        close(fd);
        return r;
    }
    r = getaddrinfo(u->host, u->port, &hints, &ai);
    if (r) {
        snprintf(err, errlen, "%s: %s", u->host, gai_strerror(r));
        return -EHOSTUNREACH;
    }
    r = -ECONNREFUSED;
    for (a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                    a->ai_protocol);
        if (fd < 0)
            continue;
        tune(fd, true);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        r = -errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return a ? fd : r;
}

int mig_connect(const struct mig_uri *u, unsigned int wait_ms, int *fd,
                char *err, size_t errlen)
{
    struct timespec nap = { 0, 20 * 1000 * 1000 };
    unsigned int waited = 0;
    int r;

    err[0] = 0;
    for (;;) {
        r = try_connect(u, err, errlen);
        if (r >= 0) {
            *fd = r;
            return 0;
        }
        if ((r != -ECONNREFUSED && r != -ENOENT) || waited >= wait_ms)
            break;
        nanosleep(&nap, NULL);
        waited += 20;
    }
    if (!err[0])
        snprintf(err, errlen, "connecting to %s%s%s: %s",
                 u->kind == MIG_UNIX ? u->path : u->host,
                 u->kind == MIG_UNIX ? "" : ":",
                 u->kind == MIG_UNIX ? "" : u->port, strerror(-r));
    return r;
}

static int listen_unix(const struct mig_uri *u, int *lfd)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    strcpy(sa.sun_path, u->path);
    if (lstat(u->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(u->path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 1) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    *lfd = fd;
    return 0;
}

static int listen_tcp(const struct mig_uri *u, int *lfd)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *ai;
    int one = 1, fd, r;

    r = getaddrinfo(u->host, u->port, &hints, &ai);
    if (r)
        return -EADDRNOTAVAIL;
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                ai->ai_protocol);
    r = fd < 0 ? -errno : 0;
    if (r == 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        tune(fd, true);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0)
            r = -errno;
    }
    freeaddrinfo(ai);
    if (r < 0) {
        if (fd >= 0)
            close(fd);
        return r;
    }
    *lfd = fd;
    return 0;
}

int mig_listen(const struct mig_uri *u, int *lfd, char *err, size_t errlen)
{
    int r = u->kind == MIG_UNIX ? listen_unix(u, lfd) : listen_tcp(u, lfd);

    if (r < 0)
        snprintf(err, errlen, "--incoming: cannot listen on %s%s%s: %s",
                 u->kind == MIG_UNIX ? u->path : u->host,
                 u->kind == MIG_UNIX ? "" : ":",
                 u->kind == MIG_UNIX ? "" : u->port, strerror(-r));
    return r;
}

int mig_accept(const struct mig_uri *u, int lfd, int *fd, char *err,
               size_t errlen)
{
    int c;

    do {
        c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    } while (c < 0 && errno == EINTR);
    if (u->kind == MIG_UNIX)
        unlink(u->path);
    if (c < 0) {
        int r = -errno;

        snprintf(err, errlen, "--incoming: accept: %s", strerror(-r));
        return r;
    }
    tune(c, u->kind == MIG_TCP);
    *fd = c;
    return 0;
}

int mig_set_deadline(int fd, unsigned int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000,
                          .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
        return -errno;
    return 0;
}

/* A send or receive that hit the deadline returns EAGAIN (socket(7)). */
static int io_errno(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
}

int mig_sendv(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        struct msghdr mh = { .msg_iov = iov,
                             .msg_iovlen = (size_t)(cnt > 1024 ? 1024 : cnt) };
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? io_errno() : -EIO;
        iov_advance(&iov, &cnt, (size_t)w);
    }
    return 0;
}

int mig_send(int fd, const void *buf, size_t len)
{
    struct iovec iov = { (void *)buf, len };

    return mig_sendv(fd, &iov, 1);
}

int mig_recvv(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        struct msghdr mh = { .msg_iov = iov,
                             .msg_iovlen = (size_t)(cnt > 1024 ? 1024 : cnt) };
        ssize_t n = recvmsg(fd, &mh, MSG_WAITALL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? io_errno() : -EPIPE;
        iov_advance(&iov, &cnt, (size_t)n);
    }
    return 0;
}

int mig_recv(int fd, void *buf, size_t len)
{
    struct iovec iov = { buf, len };

    return mig_recvv(fd, &iov, 1);
}

long mig_drain(int fd, long slack, uint64_t max_us)
{
    uint64_t end = clock_now_us() + max_us;
    int q = 0;

    for (;;) {
        if (ioctl(fd, SIOCOUTQ, &q) < 0)
            return -errno;
        if (q <= slack || clock_now_us() >= end)
            return q;
        nanosleep(&(struct timespec){ 0, 200000 }, NULL);
    }
}
