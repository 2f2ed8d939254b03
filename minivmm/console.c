/* SPDX-License-Identifier: BSD-3-Clause */
/* Serial console host side (see console.h). */
#include "minivmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/evloop.h"
#include "vmm/log.h"

#define CONSOLE_CHUNK 4096  /* bytes moved per loop wake-up */

static void make_raw(struct console *c)
{
    struct termios t;

    if (!isatty(c->in_fd) || tcgetattr(c->in_fd, &c->saved) < 0)
        return;
    t = c->saved;
    t.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
                             IGNCR | ICRNL | IXON);
    t.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | IEXTEN);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(c->in_fd, TCSANOW, &t) == 0)
        c->raw = 1;
}

/* A pty whose master is both out_fd and in_fd (non-blocking); the slave
 * is raw and kept open by us so the master never reports a hang-up. */
static int open_pty(struct console *c, char *err, size_t errlen)
{
    struct termios t;
    const char *name;
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m)) ||
        strlen(name) >= sizeof(c->pty_path)) {
        int r = errno ? -errno : -EIO;

        snprintf(err, errlen, "--serial pty: %s", strerror(-r));
        if (m >= 0)
            close(m);
        return r;
    }
    strcpy(c->pty_path, name);
    c->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (c->pty_slave >= 0 && tcgetattr(c->pty_slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(c->pty_slave, TCSANOW, &t);
    }
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    c->out_fd = c->in_fd = m;
    c->owns_out = c->owns_in = 1;
    log_info("minivmm: serial console on %s", name);
    return 0;
}

static void drop_client(struct console *c)
{
    if (c->client_fd < 0)
        return;
    evloop_del(c->loop, c->client_fd);
    close(c->client_fd);
    c->client_fd = -1;
}

/* Guest output ready in the pipe: to the client, or dropped. */
static void on_output(void *opaque, int fd, uint32_t events)
{
    struct console *c = opaque;
    char buf[CONSOLE_CHUNK];
    ssize_t n = read(fd, buf, sizeof(buf));

    (void)events;
    if (n > 0 && c->client_fd >= 0 &&
        send(c->client_fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
        errno != EAGAIN && errno != EWOULDBLOCK)
        drop_client(c);
}

/* The client typed something (or left). */
static void on_client(void *opaque, int fd, uint32_t events)
{
    struct console *c = opaque;
    char buf[CONSOLE_CHUNK];
    ssize_t n = read(fd, buf, sizeof(buf));

    (void)events;
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            drop_client(c);
        return;
    }
    /* A full input pipe drops the rest, as a UART would overrun. */
    if (write(c->in_wr, buf, (size_t)n) < 0) {
        /* dropped */
    }
}

/* The attached client already hung up (its EOF not yet read): a quick
 * detach and re-attach must not find the console busy. */
static bool client_gone(const struct console *c)
{
    struct pollfd p = { .fd = c->client_fd, .events = POLLRDHUP };

    return poll(&p, 1, 0) == 1 &&
           (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Only minivmm's effective uid and root may attach, as on the API
 * socket (docs/security.md); the socket file is 0600 too. */
static bool peer_allowed(int fd)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
        return false;
    return cr.uid == 0 || cr.uid == geteuid();
}

static void refuse(int fd, const char *line)
{
    if (send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* best effort */
    }
    close(fd);
}

static void on_accept(void *opaque, int fd, uint32_t events)
{
    struct console *c = opaque;
    int cl = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    (void)events;
    if (cl < 0)
        return;
    if (!peer_allowed(cl)) {
        refuse(cl, "minivmm: permission denied: not the owner of this "
                   "minivmm\n");
        return;
    }
    if (c->client_fd >= 0 && client_gone(c))
        drop_client(c);
    if (c->client_fd >= 0) {
        refuse(cl, "minivmm: console busy (another client is attached)\n");
        return;
    }
    c->client_fd = cl;
    if (evloop_add(c->loop, cl, EPOLLIN, on_client, c) < 0) {
        close(cl);
        c->client_fd = -1;
    }
}

/* Bind @path, replacing only a stale socket file. fd or -errno. */
static int listen_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd, r;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return -EEXIST;
        unlink(path);
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* Owner-only before anyone can connect (connect needs listen). */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(path, 0600) < 0 || listen(fd, 4) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

static int open_socket(struct console *c, const char *path,
                       struct evloop *loop, char *err, size_t errlen)
{
    int out[2] = { -1, -1 }, in[2] = { -1, -1 }, r = 0;

    c->loop = loop;
    if (!loop || strlen(path) >= sizeof(c->sock_path))
        r = -EINVAL;
    if (r == 0 && (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 ||
                   pipe2(in, O_CLOEXEC | O_NONBLOCK) < 0))
        r = -errno;
    c->out_rd = out[0], c->out_fd = out[1];
    c->in_fd = in[0], c->in_wr = in[1];
    c->owns_out = c->owns_in = 1;
    if (r == 0) {
        c->listen_fd = listen_unix(path);
        r = c->listen_fd < 0 ? c->listen_fd : 0;
    }
    if (r == 0) {
        strcpy(c->sock_path, path);
        r = evloop_add(loop, c->out_rd, EPOLLIN, on_output, c);
        c->out_watched = r == 0;
    }
    if (r == 0) {
        r = evloop_add(loop, c->listen_fd, EPOLLIN, on_accept, c);
        c->listen_watched = r == 0;
    }
    if (r < 0)
        snprintf(err, errlen, "--serial socket:%s: %s", path, strerror(-r));
    return r;
}

int console_open(struct console *c, enum serial_mode mode, const char *path,
                 struct evloop *loop, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->out_fd = c->in_fd = c->pty_slave = -1;
    c->listen_fd = c->client_fd = c->out_rd = c->in_wr = -1;
    switch (mode) {
    case SERIAL_STDIO:
        c->out_fd = STDOUT_FILENO;
        c->in_fd = STDIN_FILENO;
        make_raw(c);
        return 0;
    case SERIAL_FILE:
        c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                         0644);
        if (c->out_fd < 0) {
            int r = -errno;

            snprintf(err, errlen, "--serial file:%s: %s", path,
                     strerror(errno));
            return r;
        }
        c->owns_out = 1;
        return 0;
    case SERIAL_PTY:
        return open_pty(c, err, errlen);
    case SERIAL_SOCKET:
        return open_socket(c, path, loop, err, errlen);
    case SERIAL_NONE:
    default:
        return 0;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void console_close(struct console *c)
{
    if (c->raw)
        tcsetattr(c->in_fd, TCSANOW, &c->saved);
    drop_client(c);
    if (c->listen_watched)
        evloop_del(c->loop, c->listen_fd);
    if (c->out_watched)
        evloop_del(c->loop, c->out_rd);
    c->listen_watched = c->out_watched = 0;
    if (c->sock_path[0] && c->listen_fd >= 0)
        unlink(c->sock_path);
    close_fd(&c->listen_fd);
    close_fd(&c->out_rd);
    close_fd(&c->in_wr);
    close_fd(&c->pty_slave);
    if (c->owns_in && c->in_fd >= 0 && c->in_fd != c->out_fd)
        close(c->in_fd);
    if (c->owns_out && c->out_fd >= 0)
        close(c->out_fd);
    c->raw = c->owns_out = c->owns_in = 0;
    c->out_fd = c->in_fd = -1;
}
