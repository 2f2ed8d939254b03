/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared pieces of minivmm-ctl (tools/minivmm-ctl/). */
#ifndef MINIVMM_CTL_H
#define MINIVMM_CTL_H

#define CTL_EXIT_BADCMD 2
#define CTL_EXIT_NOCONN 3

/* Connect to the UNIX stream socket @path. fd or -errno. */
int ctl_connect(const char *path);

#endif
