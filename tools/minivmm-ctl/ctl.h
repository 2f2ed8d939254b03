/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared pieces of minivmm-ctl (tools/minivmm-ctl/). */
#ifndef MINIVMM_CTL_H
#define MINIVMM_CTL_H

#define CTL_EXIT_BADCMD 2
#define CTL_EXIT_NOCONN 3

/* Connect to the UNIX stream socket @path. fd or -errno. */
int ctl_connect(const char *path);

/* "console": attach the terminal to the serial console socket @path
 * until Ctrl-] (exit 0) or the socket closes (exit 0); 3 if it cannot be
 * reached. */
int ctl_console(const char *path);

#endif
