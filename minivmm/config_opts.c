/* SPDX-License-Identifier: BSD-3-Clause */
/* The option table and the parsing of each option's value (see
 * config_opts.h). */
#include "minivmm/config_opts.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "minivmm/config_devices.h"
#include "minivmm/config_viommu.h"
#include "vmm/kvopts.h"
#include "vmm/seccomp.h"

static const struct option options[] = {
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "cmdline", required_argument, NULL, OPT_CMDLINE },
    { "cpus", required_argument, NULL, OPT_CPUS },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "serial", required_argument, NULL, OPT_SERIAL },
    { "cpu-features", required_argument, NULL, OPT_CPU_FEATURES },
    { "disk", required_argument, NULL, OPT_DISK },
    { "net", required_argument, NULL, OPT_NET },
    { "console", no_argument, NULL, OPT_CONSOLE },
    { "rng", no_argument, NULL, OPT_RNG },
    { "restore", required_argument, NULL, OPT_RESTORE },
    { "api-socket", required_argument, NULL, OPT_API_SOCKET },
    { "vfio-user", required_argument, NULL, OPT_VFIO_USER },
    { "viommu", required_argument, NULL, OPT_VIOMMU },
    { "incoming", required_argument, NULL, OPT_INCOMING },
    { "migrate-downtime-ms", required_argument, NULL, OPT_MIGRATE_DOWNTIME },
    { "migrate-timeout-ms", required_argument, NULL, OPT_MIGRATE_TIMEOUT },
    { "migrate-rt-boost", required_argument, NULL, OPT_MIGRATE_RT_BOOST },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "seccomp", required_argument, NULL, OPT_SECCOMP },
    { "user", required_argument, NULL, OPT_USER },
    { "group", required_argument, NULL, OPT_GROUP },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "log-file", required_argument, NULL, OPT_LOG_FILE },
    { "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
    { "event-log", required_argument, NULL, OPT_EVENT_LOG },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

const struct option *config_options(void)
{
    return options;
}

int config_parse_size(const char *s, uint64_t *bytes)
{
    char *end;
    unsigned long long v;
    unsigned int shift = 20;

    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    switch (tolower((unsigned char)*end)) {
    case 0:
        break;
    case 'k':
        shift = 10, end++;
        break;
    case 'm':
        shift = 20, end++;
        break;
    case 'g':
        shift = 30, end++;
        break;
    case 't':
        shift = 40, end++;
        break;
    default:
        return -EINVAL;
    }
    if (strcasecmp(end, "") && strcasecmp(end, "b") && strcasecmp(end, "ib"))
        return -EINVAL;
    if (v > (UINT64_MAX >> shift))
        return -EINVAL;
    *bytes = (uint64_t)v << shift;
    return 0;
}

static int parse_serial(const char *s, struct vm_config *cfg, char *err,
                        size_t errlen)
{
    if (!strcmp(s, "stdio")) {
        cfg->serial = SERIAL_STDIO;
    } else if (!strcmp(s, "none")) {
        cfg->serial = SERIAL_NONE;
    } else if (!strcmp(s, "pty")) {
        cfg->serial = SERIAL_PTY;
    } else if (!strncmp(s, "file:", 5) && s[5]) {
        cfg->serial = SERIAL_FILE;
        cfg->serial_path = s + 5;
    } else if (!strncmp(s, "socket:", 7) && s[7] && strlen(s + 7) < 108) {
        cfg->serial = SERIAL_SOCKET;
        cfg->serial_path = s + 7;
    } else {
        snprintf(err, errlen, "--serial '%s': use stdio, file:PATH, pty, "
                 "socket:PATH or none", s);
        return -EINVAL;
    }
    return 0;
}

/* KVOPT_FN for hugepages=on|off: @field is a bool. */
static int onoff_fn(const char *val, void *field)
{
    if (!val || (strcmp(val, "on") && strcmp(val, "off")))
        return -EINVAL;
    *(bool *)field = !strcmp(val, "on");
    return 0;
}

static const struct kvopt_spec memory_keys[] = {
    { "hugepages", KVOPT_FN, offsetof(struct vm_config, hugepages), 0, 0, 0,
      onoff_fn },
    { NULL, 0, 0, 0, 0, 0, NULL },
};

/* The ",key=value" options of --memory after the size (vmm/kvopts.h). */
static int parse_memory_opts(const char *arg, const char *o,
                             struct vm_config *cfg, char *err, size_t errlen)
{
    const struct kvopt *bad = NULL;
    struct kvopts kv;
    int r = kvopts_split(o, &kv);

    if (r == 0)
        r = kvopts_apply(&kv, memory_keys, cfg, KVOPTS_LAST_WINS, &bad);
    if (r < 0) {
        snprintf(err, errlen, "--memory '%s': %s option '%s%s%s' "
                 "(hugepages=on|off)", arg, r == -EEXIST ? "repeated" :
                 "unknown", bad ? bad->key : o, bad && bad->val ? "=" : "",
                 bad && bad->val ? bad->val : "");
        return -EINVAL;
    }
    return 0;
}

/* --memory [SIZE][,hugepages=on|off]: the size may be left out (it then
 * stays the default, or comes from the snapshot/stream). */
static int parse_memory(const char *s, struct vm_config *cfg, char *err,
                        size_t errlen)
{
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    char size[32];

    if (n >= sizeof(size) || (n == 0 && !comma)) {
        snprintf(err, errlen, "--memory '%s': not a size (e.g. 512M, 2G)",
                 s);
        return -EINVAL;
    }
    memcpy(size, s, n);
    size[n] = 0;
    cfg->memory_given = n != 0;
    if (n && config_parse_size(size, &cfg->memory) < 0) {
        snprintf(err, errlen, "--memory '%s': not a size (e.g. 512M, 2G)",
                 s);
        return -EINVAL;
    }
    if (cfg->memory == 0 || cfg->memory % 4096) {
        snprintf(err, errlen, "--memory '%s': must be a non-zero multiple "
                 "of 4 KiB", s);
        return -EINVAL;
    }
    if (comma && parse_memory_opts(s, comma + 1, cfg, err, errlen) < 0)
        return -EINVAL;
    if (cfg->hugepages && cfg->memory % (2ULL << 20)) {
        snprintf(err, errlen, "--memory '%s': with hugepages=on the size "
                 "must be a multiple of 2 MiB", s);
        return -EINVAL;
    }
    return 0;
}

/* A decimal number in [@min, @max] for option @name (--cpus, the
 * millisecond options). */
static int parse_number(const char *name, const char *s, unsigned int min,
                        unsigned int max, unsigned int *out, char *err,
                        size_t errlen)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || !isdigit((unsigned char)*s) || v < min || v > max) {
        snprintf(err, errlen, "--%s '%s': need a number from %u to %u", name,
                 s, min, max);
        return -EINVAL;
    }
    *out = (unsigned int)v;
    return 0;
}

/* --log-level: one of vmm/log.h's level names (applied by main()). */
static int parse_log_level(const char *arg, struct vm_config *cfg,
                           char *err, size_t errlen)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };

    for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(arg, names[i])) {
            cfg->log_level = names[i];
            return 0;
        }
    }
    snprintf(err, errlen, "--log-level '%s': error, warn, info or debug",
             arg);
    return -EINVAL;
}

/* Keeps the text too, for config_to_json(). */
static int parse_cpu_features(const char *arg, struct vm_config *cfg,
                              char *err, size_t errlen)
{
    size_t have = strlen(cfg->cpu_features);

    if (have + 1 + strlen(arg) >= sizeof(cfg->cpu_features)) {
        snprintf(err, errlen, "--cpu-features: too long altogether");
        return -EINVAL;
    }
    if (cpuid_policy_parse(&cfg->cpuid, arg, err, errlen) < 0)
        return -EINVAL;
    snprintf(cfg->cpu_features + have, sizeof(cfg->cpu_features) - have,
             "%s%s", have ? "," : "", arg);
    return 0;
}

/* --restore FILE[,prefault=on|off]: the option is taken from the end, so
 * a FILE with commas still works. */
static int parse_restore(const char *arg, struct vm_config *cfg, char *err,
                         size_t errlen)
{
    const char *comma = strrchr(arg, ',');
    size_t len;

    cfg->restore = arg;
    cfg->restore_prefault = false;
    if (!comma || strncmp(comma + 1, "prefault=", 9))
        return 0;
    if (!strcmp(comma + 10, "on"))
        cfg->restore_prefault = true;
    else if (strcmp(comma + 10, "off")) {
        snprintf(err, errlen, "--restore: prefault=%s: want on or off",
                 comma + 10);
        return -EINVAL;
    }
    len = (size_t)(comma - arg);
    if (len == 0 || len >= sizeof(cfg->restore_buf)) {
        snprintf(err, errlen, "--restore: %s", len ? "file name too long" :
                 "no file name");
        return -EINVAL;
    }
    memcpy(cfg->restore_buf, arg, len);
    cfg->restore_buf[len] = 0;
    cfg->restore = cfg->restore_buf;
    return 0;
}

/* Options kept as given: a string (const char *) or a flag (int 1) in
 * struct vm_config. */
static const struct {
    int opt;
    bool flag;
    size_t off;
} plain_opts[] = {
    { OPT_KERNEL, false, offsetof(struct vm_config, kernel) },
    { OPT_INITRD, false, offsetof(struct vm_config, initrd) },
    { OPT_CMDLINE, false, offsetof(struct vm_config, cmdline) },
    { OPT_INCOMING, false, offsetof(struct vm_config, incoming) },
    { OPT_API_SOCKET, false, offsetof(struct vm_config, api_socket) },
    { OPT_USER, false, offsetof(struct vm_config, user) },
    { OPT_GROUP, false, offsetof(struct vm_config, group) },
    { OPT_LOG_FILE, false, offsetof(struct vm_config, log_file) },
    { OPT_EVENT_LOG, false, offsetof(struct vm_config, event_log) },
    { OPT_CONSOLE, true, offsetof(struct vm_config, virtio_console) },
    { OPT_RNG, true, offsetof(struct vm_config, virtio_rng) },
    { OPT_HELP, true, offsetof(struct vm_config, show_help) },
    { OPT_VERSION, true, offsetof(struct vm_config, show_version) },
};

/* Options whose value is parsed. */
static int apply_parsed(int opt, const char *arg, struct vm_config *cfg,
                        char *err, size_t errlen)
{
    switch (opt) {
    case OPT_CPUS:
        return parse_number("cpus", arg, 1, CONFIG_MAX_CPUS, &cfg->cpus, err,
                            errlen);
    case OPT_MEMORY:
        return parse_memory(arg, cfg, err, errlen);
    case OPT_SERIAL:
        return parse_serial(arg, cfg, err, errlen);
    case OPT_CPU_FEATURES:
        return parse_cpu_features(arg, cfg, err, errlen);
    case OPT_DISK:
        return config_add_disk(arg, cfg, err, errlen);
    case OPT_VFIO_USER:
        return config_add_vfio(arg, cfg, err, errlen);
    case OPT_NET:
        return config_add_net(arg, cfg, err, errlen);
    case OPT_VIOMMU:
        return config_parse_viommu(arg, cfg, err, errlen);
    case OPT_MIGRATE_DOWNTIME:
        return parse_number("migrate-downtime-ms", arg, 1, 60000,
                            &cfg->migrate_downtime_ms, err, errlen);
    case OPT_MIGRATE_TIMEOUT:
        return parse_number("migrate-timeout-ms", arg, 100, 3600000,
                            &cfg->migrate_timeout_ms, err, errlen);
    case OPT_MIGRATE_RT_BOOST:
        if (strcmp(arg, "on") && strcmp(arg, "off")) {
            snprintf(err, errlen, "--migrate-rt-boost: '%s': on or off",
                     arg);
            return -EINVAL;
        }
        cfg->migrate_rt_boost_off = !strcmp(arg, "off");
        return 0;
    case OPT_SHUTDOWN_TIMEOUT:
        return parse_number("shutdown-timeout", arg, 0, 3600,
                            &cfg->shutdown_timeout, err, errlen);
    case OPT_CONFIG:
        return 0; /* applied before the other options */
    case OPT_SECCOMP:
        if (sc_mode_parse(arg, &cfg->seccomp) == 0)
            return 0;
        snprintf(err, errlen, "--seccomp %s: on, log or off", arg);
        return -EINVAL;
    case OPT_LOG_LEVEL:
        return parse_log_level(arg, cfg, err, errlen);
    case OPT_RESTORE:
        return parse_restore(arg, cfg, err, errlen);
    default:
        snprintf(err, errlen, "unknown or incomplete option (see --help)");
        return -EINVAL;
    }
}

int config_apply_opt(int opt, const char *arg, struct vm_config *cfg,
                     char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(plain_opts) / sizeof(plain_opts[0]); i++) {
        char *field = (char *)cfg + plain_opts[i].off;

        if (plain_opts[i].opt != opt)
            continue;
        if (plain_opts[i].flag)
            *(int *)field = 1;
        else
            *(const char **)field = arg;
        return 0;
    }
    return apply_parsed(opt, arg, cfg, err, errlen);
}

int config_apply(const char *name, const char *arg, struct vm_config *cfg,
                 char *err, size_t errlen)
{
    for (const struct option *o = options; o->name; o++)
        if (!strcmp(o->name, name))
            return config_apply_opt(o->val, arg, cfg, err, errlen);
    return -ENOENT;
}

int config_option_has_arg(const char *name)
{
    for (const struct option *o = options; o->name; o++)
        if (!strcmp(o->name, name))
            return o->has_arg == required_argument;
    return -ENOENT;
}

