/* SPDX-License-Identifier: BSD-3-Clause */
/* Counter helpers (see stats.h). */
#include "vmm/stats.h"

#include <json-c/json.h>

const char *const stats_exit_names[STATS_EXIT_COUNT] = {
    [STATS_EXIT_IO] = "io",
    [STATS_EXIT_MMIO] = "mmio",
    [STATS_EXIT_HLT] = "hlt",
    [STATS_EXIT_INTR] = "intr",
    [STATS_EXIT_KICK] = "kick",
    [STATS_EXIT_OTHER] = "other",
};

void stats_put(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}
