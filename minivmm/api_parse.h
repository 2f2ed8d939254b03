/* SPDX-License-Identifier: BSD-3-Clause */
/* Control API requests (docs/api.md): the command table and the parser of
 * one request line (api_parse.c), pure, below the socket server (api.c),
 * so the unit tests and fuzz_api link it alone. */
#ifndef MINIVMM_API_PARSE_H
#define MINIVMM_API_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_LINE_MAX 4096   /* longest request line, bytes */
#define API_MAX_CLIENTS 8
#define API_PATH_MAX 1024
#define API_ID_MAX ((int64_t)((1ull << 53) - 1)) /* |id| limit (I-JSON) */
#define API_IDLE_SEC 30     /* a client silent this long may be evicted */

enum api_cmd {
    API_CMD_STATUS,
    API_CMD_PAUSE,
    API_CMD_RESUME,
    API_CMD_SNAPSHOT,
    API_CMD_QUIT,
    API_CMD_MIGRATE,            /* minivmm/persist/migration.h */
    API_CMD_MIGRATE_STATUS,
    API_CMD_MIGRATE_CANCEL,
    API_CMD_CONFIG,             /* the VM description (minivmm/config.h) */
    API_CMD_STATS,              /* counters (vmm/stats.h) */
    API_CMD_DEVICE_ADD,         /* hotplug (minivmm/hotplug_ctl.h) */
    API_CMD_DEVICE_REMOVE,
    API_CMD_POWERDOWN,          /* the ACPI power button */
    API_CMD_COUNT,
};

#define API_DEV_TYPE_MAX 16
#define API_DEV_ID_MAX 21       /* CONFIG_ID_MAX */

struct api_request {
    bool has_id;
    int64_t id;
    enum api_cmd cmd;
    char file[API_PATH_MAX];    /* snapshot: "file" */
    char uri[API_PATH_MAX];     /* migrate: "uri" */
    /* migrate's optional parameters (docs/api.md): "downtime-ms" 1-60000
     * (0: absent), "auto-converge" (-1: absent, 0 false, 1 true),
     * "max-bandwidth" bytes/s, 0 or 1 MiB/s to 1 TiB/s (0: uncapped). */
    unsigned int mig_downtime_ms;
    int mig_auto_converge;
    int mig_rt_boost;           /* "rt-boost": -1 absent, 0 false, 1 true */
    uint64_t mig_max_bandwidth;
    /* device-add: "args" {"type": T, K: V, ...} as T and "K=V,..." (a true
     * boolean gives "K", false nothing, an integer its decimal); device-
     * remove: "args" {"id": ID[, "timeout": MS]}. */
    char dev_type[API_DEV_TYPE_MAX];
    char dev_args[API_LINE_MAX];
    char dev_id[API_DEV_ID_MAX];
    unsigned int timeout_ms;
};

/* Parse one request line (@len bytes, no newline needed). 0, or -EINVAL
 * with the reason in @err and, when it could be read, the id in @req.
 * Pure: unit-tested and fuzzable. */
int api_parse_request(const char *line, size_t len, struct api_request *req,
                      char *err, size_t errlen);

/* The command's wire name ("pause"). */
const char *api_cmd_name(enum api_cmd cmd);

#endif
