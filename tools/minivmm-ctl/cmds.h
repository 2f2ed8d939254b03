/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm-ctl's commands (cmds.c). */
#ifndef MINIVMM_CTL_CMDS_H
#define MINIVMM_CTL_CMDS_H

#include <json-c/json.h>
#include <stdlib.h>

struct ctl_cmd {
    const char *name;
    int min_args, max_args;
    const char *args;   /* "FILE", "" */
    const char *help;   /* one line */
};

/* Every command, in --help order; *@n of them. */
const struct ctl_cmd *ctl_cmds(unsigned int *n);
/* The command @name, or NULL. */
const struct ctl_cmd *ctl_cmd_find(const char *name);
/* The closest command name to a mistyped @name, or NULL if none is
 * close. */
const char *ctl_cmd_suggest(const char *name);
/* The request of @c with @nargs arguments @args (NULL-terminated), or
 * NULL if they do not fit (a bad command line). */
struct json_object *ctl_build_request(const struct ctl_cmd *c, int nargs,
                                      char **args, int id);

#endif
