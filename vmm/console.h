/* SPDX-License-Identifier: BSD-3-Clause */
/* The host side of the guest's serial console: where COM1 output goes
 * (stdout, a file, nowhere) and where its input comes from (stdin, only in
 * stdio mode). A terminal on stdin is put in raw mode (no echo, no line
 * editing; Ctrl-C still stops minivmm) and restored by console_close(). */
#ifndef MINIVMM_CONSOLE_H
#define MINIVMM_CONSOLE_H

#include <stddef.h>
#include <termios.h>

#include "vmm/config.h"

struct console {
    int out_fd;      /* -1: output discarded */
    int in_fd;       /* -1: no input */
    int owns_out;    /* out_fd was opened here */
    int raw;         /* termios changed; saved holds the original */
    struct termios saved;
};

/* Open per @mode (@path for SERIAL_FILE: created/truncated, 0644).
 * 0, or -errno with the reason in @err. */
int console_open(struct console *c, enum serial_mode mode, const char *path,
                 char *err, size_t errlen);
void console_close(struct console *c);

#endif
