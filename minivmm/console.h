/* SPDX-License-Identifier: BSD-3-Clause */
/* The host side of the guest's serial console: where COM1 output goes
 * (stdout, a file, a pty, a UNIX socket clients attach to, nowhere) and
 * where its input comes from (stdin in stdio mode, the pty, the attached
 * socket client). A terminal on stdin is put in raw mode (no echo, no line
 * editing; Ctrl-C still stops minivmm) and restored by console_close().
 *
 * Output never blocks the vCPU: in pty and socket modes out_fd is
 * non-blocking and the UART drops (and counts) what does not fit
 * (devices/serial.h). In socket mode out_fd is a pipe the event loop
 * drains: to the attached client (MSG_DONTWAIT, a slow client loses
 * output) or nowhere when nobody is attached; the client's bytes go into
 * a second pipe whose read end is in_fd, so the platform reads input the
 * same way in every mode. One client at a time; a second one is told
 * "busy" and closed. The socket file is 0600 and only minivmm's effective
 * uid and root may attach (SO_PEERCRED), as on the API socket. */
#ifndef MINIVMM_CONSOLE_H
#define MINIVMM_CONSOLE_H

#include <stddef.h>
#include <termios.h>

#include "minivmm/config_types.h"

struct evloop;

struct console {
    int out_fd;      /* -1: output discarded */
    int in_fd;       /* -1: no input */
    int owns_out;    /* out_fd was opened here */
    int owns_in;     /* in_fd was opened here */
    int raw;         /* termios changed; saved holds the original */
    struct termios saved;
    /* pty mode */
    int pty_slave;   /* kept open: no hang-up while nobody has it open */
    char pty_path[64];
    /* socket mode */
    struct evloop *loop;
    int listen_fd, client_fd, out_rd, in_wr;
    int out_watched, listen_watched;    /* in the loop */
    char sock_path[108];
};

/* Open per @mode (@path: SERIAL_FILE's file, created/truncated, 0644;
 * SERIAL_SOCKET's socket, an existing socket file there is replaced,
 * anything else refused with -EEXIST). @loop serves the socket mode (may
 * be NULL otherwise). SERIAL_PTY prints "minivmm: serial console on
 * /dev/pts/N" through vmm/log.h. 0, or -errno with the reason in @err. */
int console_open(struct console *c, enum serial_mode mode, const char *path,
                 struct evloop *loop, char *err, size_t errlen);
void console_close(struct console *c);

#endif
