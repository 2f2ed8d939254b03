/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl SOCKET console: attach the terminal to a serial console
 * socket (minivmm --serial socket:SOCKET). Ctrl-] (0x1d, as in telnet)
 * detaches; the VM keeps running. */
#include "tools/minivmm-ctl/console.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tools/minivmm-ctl/ctl.h"

#define DETACH_KEY 0x1d /* Ctrl-] */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* Keyboard bytes to the socket; 1 when the detach key was typed, -1 on
 * EOF of stdin (output still flows), 0 otherwise. */
static int from_stdin(int fd)
{
    char buf[1024];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    char *k;

    if (n <= 0)
        return -1;
    k = memchr(buf, DETACH_KEY, (size_t)n);
    if (write_all(fd, buf, k ? (size_t)(k - buf) : (size_t)n) < 0)
        return -1;
    return k ? 1 : 0;
}

static int pump(int fd)
{
    struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
                           { .fd = STDIN_FILENO, .events = POLLIN } };
    char buf[4096];

    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return CTL_EXIT_NOCONN;
        }
        if (p[0].revents) {
            ssize_t n = read(fd, buf, sizeof(buf));

            if (n <= 0) {
                fprintf(stderr, "\r\nminivmm-ctl: console closed\r\n");
                return 0;
            }
            if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                return 1;
        }
        if (p[1].revents) {
            int r = from_stdin(fd);

            if (r == 1) {
                fprintf(stderr, "\r\nminivmm-ctl: detached\r\n");
                return 0;
            }
            if (r < 0)
                p[1].fd = -1; /* stdin gone: keep showing output */
        }
    }
}

int ctl_console(const char *path)
{
    struct termios saved, t;
    int raw = 0, fd = ctl_connect(path), r;

    if (fd < 0) {
        fprintf(stderr, "minivmm-ctl: %s: %s\n", path, strerror(-fd));
        return CTL_EXIT_NOCONN;
    }
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
        t = saved;
        cfmakeraw(&t);
        raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
        fprintf(stderr, "minivmm-ctl: attached to %s; Ctrl-] detaches\r\n",
                path);
    }
    r = pump(fd);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(fd);
    return r;
}
