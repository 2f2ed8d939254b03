/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl SOCKET console (console.c). */
#ifndef MINIVMM_CTL_CONSOLE_H
#define MINIVMM_CTL_CONSOLE_H

/* "console": attach the terminal to the serial console socket @path
 * until Ctrl-] (exit 0) or the socket closes (exit 0); 3 if it cannot be
 * reached. User-facing errors go to stderr (this is a client's UI, not
 * minivmm's log). */
int ctl_console(const char *path);

#endif
