/* SPDX-License-Identifier: BSD-3-Clause */
/* The --config VM description file (JSON, docs/vm.schema.json) and its
 * inverse, the API's "config" reply. Every value goes through the option
 * table (config_opts.h), as on the command line. */
#ifndef MINIVMM_CONFIG_FILE_H
#define MINIVMM_CONFIG_FILE_H

#include <stddef.h>

#include "minivmm/config_types.h"

struct json_object;

/* Apply the JSON VM description file @path (an object whose keys are
 * long option names) to @cfg; cfg->file keeps the parsed text (strings
 * point into it). 0 or -EINVAL with "--config PATH: \"key\": reason" in
 * @err. */
int config_load_file(const char *path, struct vm_config *cfg, char *err,
                     size_t errlen);

/* The VM description of @cfg as a JSON object in the --config format
 * (what the API's "config" command returns); NULL if out of memory. A
 * description parsed back gives the same description (a ',' in a path
 * is written ",,": vmm/kvopts.h). */
struct json_object *config_to_json(const struct vm_config *cfg);

#endif
