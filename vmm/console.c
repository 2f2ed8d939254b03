/* SPDX-License-Identifier: BSD-3-Clause */
/* Serial console host side (see console.h). */
#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

int console_open(struct console *c, enum serial_mode mode, const char *path,
                 char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->out_fd = c->in_fd = -1;
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
    case SERIAL_NONE:
    default:
        return 0;
    }
}

void console_close(struct console *c)
{
    if (c->raw)
        tcsetattr(c->in_fd, TCSANOW, &c->saved);
    if (c->owns_out && c->out_fd >= 0)
        close(c->out_fd);
    c->raw = c->owns_out = 0;
    c->out_fd = c->in_fd = -1;
}
