/* SPDX-License-Identifier: BSD-3-Clause */
/* Command line → validated VM configuration. Parsing is pure (no files
 * opened, no KVM) so it is unit-testable; main.c checks what needs the host
 * (files, host RAM, KVM's vCPU limit) before creating anything. */
#ifndef MINIVMM_CONFIG_H
#define MINIVMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "arch/x86/cpuid.h"
#include "vmm/seccomp.h"

#define CONFIG_DEFAULT_MEMORY (512ULL << 20)
#define CONFIG_MAX_CPUS 255 /* xAPIC IDs, MADT/MP table limit */

enum serial_mode {
    SERIAL_STDIO,
    SERIAL_FILE,
    SERIAL_NONE,
    SERIAL_PTY,     /* a new pty, its path printed on stderr */
    SERIAL_SOCKET,  /* UNIX socket serial_path, one attached client */
};

/* --disk / --net (vmm/config_virtio.c). */
#define CONFIG_MAX_DISKS 16
#define CONFIG_MAX_NETS 8
#define CONFIG_ID_MAX 21        /* id + NUL; the id is also the disk serial */
#define CONFIG_PATH_MAX 1024
#define CONFIG_TAP_MAX 16       /* IFNAMSIZ */

struct config_disk {
    char path[CONFIG_PATH_MAX];
    char id[CONFIG_ID_MAX];     /* given, or "diskN" */
    int readonly;
};

struct config_net {
    char tap[CONFIG_TAP_MAX];
    char id[CONFIG_ID_MAX];     /* "netN" */
    uint8_t mac[6];
    int has_mac;                /* else generated from the tap name */
};

/* --vfio-user (vmm/vfio_devs.c). */
#define CONFIG_MAX_VFIO 8

struct config_vfio {
    char socket[108];           /* sun_path */
    char id[CONFIG_ID_MAX];     /* given, or "vfioN" */
    int dma_message;            /* dma=message: no fds, DMA_READ/WRITE */
    unsigned int reconnect;     /* seconds between retries, 0: never */
    unsigned int timeout_ms;    /* reply timeout, 0: default (5 s) */
};

struct vm_config {
    const char *kernel;
    const char *initrd;
    const char *cmdline;
    unsigned int cpus;
    uint64_t memory;            /* bytes, multiple of 4 KiB */
    bool hugepages;             /* --memory ...,hugepages=on: 2 MiB pages */
    bool memory_given;          /* --memory SIZE was on the command line:
                                 * with --restore/--incoming, the size the
                                 * file/stream must have */
    enum serial_mode serial;
    const char *serial_path;    /* SERIAL_FILE, SERIAL_SOCKET */
    struct cpuid_policy cpuid;
    struct config_disk disks[CONFIG_MAX_DISKS];
    unsigned int ndisks;
    struct config_net nets[CONFIG_MAX_NETS];
    unsigned int nnets;
    int virtio_console;         /* --console: stdin goes to hvc0 */
    int virtio_rng;             /* --rng */
    struct config_vfio vfio[CONFIG_MAX_VFIO];
    unsigned int nvfio;
    const char *restore;        /* --restore FILE: snapshot to resume */
    bool restore_prefault;      /* --restore FILE,prefault=on: load all
                                 * RAM before the vCPUs start */
    char restore_buf[4096];     /* FILE when an option followed it */
    const char *incoming;       /* --incoming URI: migration destination */
    unsigned int migrate_downtime_ms; /* --migrate-downtime-ms, 0: 20 */
    unsigned int migrate_timeout_ms;  /* --migrate-timeout-ms, 0: 30000 */
    const char *api_socket;     /* --api-socket PATH: control API */
    char cpu_features[256];     /* every --cpu-features text, ','-joined */
    const char *config_file;    /* --config FILE */
    struct json_object *file;   /* its parsed text: strings point into it
                                 * (config_free() releases it) */
    enum sc_mode seccomp;       /* --seccomp, default SC_ON */
    const char *log_level;      /* --log-level NAME (vmm/log.h), NULL: info */
    uint64_t start_ns;          /* CLOCK_MONOTONIC at main() entry: the
                                 * start-up timeline's zero (set by main
                                 * after parsing) */
    const char *user;           /* --user: drop root to this user */
    const char *group;          /* --group: and this group */
    int show_help;
    int show_version;
};

struct json_object;

/* Parse @argv into @cfg (strings point into @argv, or into the --config
 * file's JSON). --config FILE is applied first, wherever it stands; the
 * other options then override its scalars and add to its lists (disk,
 * net, vfio-user, cpu-features). 0, or -EINVAL with a one-line reason in
 * @err. Release with config_free(). */
int config_parse(int argc, char **argv, struct vm_config *cfg, char *err,
                 size_t errlen);

/* Release what config_parse() allocated (the --config JSON). */
void config_free(struct vm_config *cfg);

/* Apply option @name (long name without "--", e.g. "cpus") with argument
 * @arg (NULL for a flag) to @cfg: the one option table shared by the
 * command line and the --config file. @arg must outlive @cfg. 0, -ENOENT
 * (no such option; nothing in @err), or -EINVAL with the reason in @err. */
int config_apply(const char *name, const char *arg, struct vm_config *cfg,
                 char *err, size_t errlen);

/* Whether option @name takes an argument: 1, 0 (a flag), -ENOENT. */
int config_option_has_arg(const char *name);

/* vmm/config_file.c: apply the JSON VM description file @path (an object
 * whose keys are long option names; docs/vm.schema.json) to @cfg. 0 or
 * -EINVAL with "--config PATH: \"key\": reason" in @err. */
int config_load_file(const char *path, struct vm_config *cfg, char *err,
                     size_t errlen);

/* The VM description of @cfg as a JSON object in the --config format
 * (what the API's "config" command returns); NULL if out of memory. A
 * description parsed back gives the same description. */
struct json_object *config_to_json(const struct vm_config *cfg);

/* Parse a size with an optional K/M/G/T suffix (binary units, case
 * insensitive, optional trailing 'B' or 'iB'); a bare number means MiB.
 * 0 or -EINVAL (malformed, overflow). */
int config_parse_size(const char *s, uint64_t *bytes);

/* The --help text. */
void config_usage(FILE *out);

#endif
