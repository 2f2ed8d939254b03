/* SPDX-License-Identifier: BSD-3-Clause */
/* Command line → validated VM configuration. Parsing is pure (no files
 * opened, no KVM) so it is unit-testable; main.c checks what needs the host
 * (files, host RAM, KVM's vCPU limit) before creating anything.
 * Below it, one way: config_file.c (--config, the API's "config"), then
 * config_opts.c (the option table), then config_devices.c (--disk, --net,
 * --vfio-user) on vmm/kvopts.c; the types are in config_types.h. */
#ifndef MINIVMM_CONFIG_H
#define MINIVMM_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "minivmm/config_file.h"
#include "minivmm/config_opts.h"
#include "minivmm/config_types.h"

/* Parse @argv into @cfg (strings point into @argv, or into the --config
 * file's JSON). --config FILE is applied first, wherever it stands; the
 * other options then override its scalars and add to its lists (disk,
 * net, vfio-user, cpu-features). 0, or -EINVAL with a one-line reason in
 * @err. Release with config_free(). */
int config_parse(int argc, char **argv, struct vm_config *cfg, char *err,
                 size_t errlen);

/* Release what config_parse() allocated (the --config JSON). */
void config_free(struct vm_config *cfg);

/* The --help text. */
void config_usage(FILE *out);

#endif
