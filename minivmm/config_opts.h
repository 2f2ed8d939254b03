/* SPDX-License-Identifier: BSD-3-Clause */
/* The one option table (long options, getopt_long(3) form) and the parsing
 * of each option's value into struct vm_config: used by the command line
 * (config.c) and the --config file (config_file.c) alike. Pure. */
#ifndef MINIVMM_CONFIG_OPTS_H
#define MINIVMM_CONFIG_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/config_types.h"

/* Option ids (struct option .val); below OPT_KERNEL: getopt's own. */
enum config_opt {
    OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_CPUS, OPT_MEMORY,
    OPT_SERIAL, OPT_CPU_FEATURES, OPT_HELP, OPT_VERSION,
    OPT_DISK, OPT_NET, OPT_CONSOLE, OPT_RNG,
    OPT_RESTORE, OPT_API_SOCKET, OPT_VFIO_USER,
    OPT_INCOMING, OPT_MIGRATE_DOWNTIME, OPT_MIGRATE_TIMEOUT, OPT_CONFIG,
    OPT_SECCOMP, OPT_USER, OPT_GROUP, OPT_LOG_LEVEL, OPT_LOG_FILE,
    OPT_VIOMMU, OPT_SHUTDOWN_TIMEOUT, OPT_EVENT_LOG, OPT_MIGRATE_RT_BOOST,
};

/* The table, ended by an all-zero entry. */
const struct option *config_options(void);

/* Apply option @opt (an OPT_* id) with argument @arg (NULL for a flag) to
 * @cfg. @arg must outlive @cfg. 0, or -EINVAL with the reason in @err
 * (also for an id not in the table). */
int config_apply_opt(int opt, const char *arg, struct vm_config *cfg,
                     char *err, size_t errlen);

/* Apply option @name (long name without "--", e.g. "cpus"): as
 * config_apply_opt(); -ENOENT (no such option; nothing in @err). */
int config_apply(const char *name, const char *arg, struct vm_config *cfg,
                 char *err, size_t errlen);

/* Whether option @name takes an argument: 1, 0 (a flag), -ENOENT. */
int config_option_has_arg(const char *name);

/* Parse a size with an optional K/M/G/T suffix (binary units, case
 * insensitive, optional trailing 'B' or 'iB'); a bare number means MiB.
 * 0 or -EINVAL (malformed, overflow). */
int config_parse_size(const char *s, uint64_t *bytes);

#endif
