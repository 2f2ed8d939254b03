/* SPDX-License-Identifier: BSD-3-Clause */
/* Command-line parsing (see config.h). */
#include "minivmm/config.h"
#include "minivmm/config_virtio.h"
#include "vmm/seccomp.h"
#include "minivmm/vfio_devs.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_CPUS, OPT_MEMORY,
    OPT_SERIAL, OPT_CPU_FEATURES, OPT_HELP, OPT_VERSION,
    OPT_DISK, OPT_NET, OPT_CONSOLE, OPT_RNG,
    OPT_RESTORE, OPT_API_SOCKET, OPT_VFIO_USER,
    OPT_INCOMING, OPT_MIGRATE_DOWNTIME, OPT_MIGRATE_TIMEOUT, OPT_CONFIG,
    OPT_SECCOMP, OPT_USER, OPT_GROUP, OPT_LOG_LEVEL,
};

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
    { "incoming", required_argument, NULL, OPT_INCOMING },
    { "migrate-downtime-ms", required_argument, NULL, OPT_MIGRATE_DOWNTIME },
    { "migrate-timeout-ms", required_argument, NULL, OPT_MIGRATE_TIMEOUT },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "seccomp", required_argument, NULL, OPT_SECCOMP },
    { "user", required_argument, NULL, OPT_USER },
    { "group", required_argument, NULL, OPT_GROUP },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

void config_usage(FILE *out)
{
    fprintf(out,
"Usage: minivmm --kernel FILE [options]\n"
"Run a Linux (or PVH ELF) guest under KVM.\n"
"\n"
"  --kernel FILE        bzImage (64-bit boot protocol) or ELF with a PVH\n"
"                       entry note (vmlinux, test payloads)\n"
"  --initrd FILE        initial ramdisk\n"
"  --cmdline TEXT       kernel command line (default: empty)\n"
"  --cpus N             number of vCPUs, 1 to KVM's limit (default 1)\n"
"  --memory SIZE[,hugepages=on]\n"
"                       guest RAM, e.g. 512M, 2G; a bare number is MiB\n"
"                       (default 512M); hugepages=on backs it with 2 MiB\n"
"                       huge pages (size a multiple of 2 MiB; needed by\n"
"                       SPDK's vfio-user NVMe target)\n"
"  --serial MODE        COM1 to stdio (default), file:PATH, pty (its path\n"
"                       is printed on stderr), socket:PATH (attach with\n"
"                       minivmm-ctl PATH console) or none\n"
"  --cpu-features LIST  hide (-) or force (+) CPUID features, e.g.\n"
"                       -xsave,-cx16\n"
"  --disk path=FILE[,readonly][,id=NAME]\n"
"                       virtio-blk disk on FILE (repeatable; NAME is also\n"
"                       its serial, default diskN)\n"
"  --net tap=NAME[,mac=MAC]\n"
"                       virtio-net on tap device NAME (repeatable)\n"
"  --console            virtio-console (hvc0) on stdio; stdin then goes to\n"
"                       it and COM1 is output-only\n"
"  --rng                virtio-rng fed from getrandom()\n"
"  --restore FILE[,prefault=on|off]\n"
"                       resume the VM saved in snapshot FILE (no --kernel;\n"
"                       vCPUs and memory come from the file, devices from\n"
"                       this command line); guest RAM is loaded on demand\n"
"                       while the guest runs unless prefault=on\n"
"  --incoming unix:PATH|tcp:HOST:PORT\n"
"                       receive a live migration there, then run it (no\n"
"                       --kernel; devices from this command line)\n"
"  --migrate-downtime-ms N\n"
"                       downtime target of outgoing migrations (default\n"
"                       20)\n"
"  --migrate-timeout-ms N\n"
"                       deadline of every wait on the migration peer, both\n"
"                       as source and as --incoming destination (default\n"
"                       30000; docs/migration.md, \"Hand-over\")\n"
"  --api-socket PATH    JSON control API on UNIX socket PATH (docs/api.md)\n"
"  --config FILE        VM description in JSON, keys named like these\n"
"                       options (docs/vm.schema.json); options given here\n"
"                       override its values and add to its lists\n"
"  --vfio-user socket=PATH[,id=NAME][,dma=fd|message][,reconnect=SECONDS]\n"
"                       PCI device served by the vfio-user server at PATH\n"
"                       (repeatable); dma=message shares no guest memory\n"
"                       fd; reconnect: retry a failed server every SECONDS\n"
"  --seccomp on|log|off per-thread syscall allow-lists, installed once\n"
"                       set-up is done (default on: a forbidden syscall\n"
"                       kills minivmm with SIGSYS; log: only logged to\n"
"                       the kernel log; docs/security.md)\n"
"  --user USER          after set-up (/dev/kvm, sockets, files opened),\n"
"                       drop root and run as USER (name or uid)\n"
"  --group GROUP        ... and as GROUP (default: USER's login group)\n"
"  --log-level error|warn|info|debug\n"
"                       what minivmm prints on stderr (default info; debug\n"
"                       adds the start-up timeline, docs/platform.md)\n"
"  --help               this text\n"
"  --version            version\n"
"\n"
"Exit status: 0 guest powered off; 1 host error; 2 bad command line or\n"
"input file; 3 guest reset; 4 guest crashed (triple fault, KVM internal\n"
"error); V when the guest writes V to the test-exit port 0xf4.\n");
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

static int parse_cpus(const char *s, unsigned int *cpus, char *err,
                      size_t errlen)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || !isdigit((unsigned char)*s) || v == 0 ||
        v > CONFIG_MAX_CPUS) {
        snprintf(err, errlen, "--cpus '%s': need a number from 1 to %d", s,
                 CONFIG_MAX_CPUS);
        return -EINVAL;
    }
    *cpus = (unsigned int)v;
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

/* The ",key=value" options of --memory after the size. */
static int parse_memory_opts(const char *arg, const char *o,
                             struct vm_config *cfg, char *err, size_t errlen)
{
    while (*o) {
        const char *end = strchr(o, ',');
        size_t n = end ? (size_t)(end - o) : strlen(o);

        if (n == 12 && !strncmp(o, "hugepages=on", n)) {
            cfg->hugepages = true;
        } else if (n == 13 && !strncmp(o, "hugepages=off", n)) {
            cfg->hugepages = false;
        } else {
            snprintf(err, errlen, "--memory '%s': unknown option '%.*s' "
                     "(hugepages=on|off)", arg, (int)n, o);
            return -EINVAL;
        }
        o += n + (end ? 1 : 0);
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

static int parse_downtime(const char *s, struct vm_config *cfg, char *err,
                          size_t errlen)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || !isdigit((unsigned char)*s) || v == 0 ||
        v > 60000) {
        snprintf(err, errlen, "--migrate-downtime-ms '%s': need a number "
                 "from 1 to 60000", s);
        return -EINVAL;
    }
    cfg->migrate_downtime_ms = (unsigned int)v;
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

/* A number of milliseconds in [@min, @max] for option @name. */
static int parse_ms(const char *name, const char *s, unsigned int min,
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

static int parse_one(int opt, const char *arg, struct vm_config *cfg,
                     char *err, size_t errlen)
{
    switch (opt) {
    case OPT_KERNEL:
        cfg->kernel = arg;
        return 0;
    case OPT_INITRD:
        cfg->initrd = arg;
        return 0;
    case OPT_CMDLINE:
        cfg->cmdline = arg;
        return 0;
    case OPT_CPUS:
        return parse_cpus(arg, &cfg->cpus, err, errlen);
    case OPT_MEMORY:
        return parse_memory(arg, cfg, err, errlen);
    case OPT_SERIAL:
        return parse_serial(arg, cfg, err, errlen);
    case OPT_CPU_FEATURES:
        return parse_cpu_features(arg, cfg, err, errlen);
    case OPT_DISK:
        return config_parse_disk(arg, cfg, err, errlen);
    case OPT_VFIO_USER:
        return config_parse_vfio_user(arg, cfg, err, errlen);
    case OPT_NET:
        return config_parse_net(arg, cfg, err, errlen);
    case OPT_CONSOLE:
        cfg->virtio_console = 1;
        return 0;
    case OPT_RNG:
        cfg->virtio_rng = 1;
        return 0;
    case OPT_RESTORE:
        return parse_restore(arg, cfg, err, errlen);
    case OPT_INCOMING:
        cfg->incoming = arg;
        return 0;
    case OPT_MIGRATE_DOWNTIME:
        return parse_downtime(arg, cfg, err, errlen);
    case OPT_MIGRATE_TIMEOUT:
        return parse_ms("migrate-timeout-ms", arg, 100, 3600000,
                        &cfg->migrate_timeout_ms, err, errlen);
    case OPT_API_SOCKET:
        cfg->api_socket = arg;
        return 0;
    case OPT_CONFIG:
        return 0; /* applied before the other options */
    case OPT_SECCOMP:
        if (sc_mode_parse(arg, &cfg->seccomp) == 0)
            return 0;
        snprintf(err, errlen, "--seccomp %s: on, log or off", arg);
        return -EINVAL;
    case OPT_USER:
        cfg->user = arg;
        return 0;
    case OPT_GROUP:
        cfg->group = arg;
        return 0;
    case OPT_LOG_LEVEL:
        if (!strcmp(arg, "error") || !strcmp(arg, "warn") ||
            !strcmp(arg, "info") || !strcmp(arg, "debug")) {
            cfg->log_level = arg;
            return 0;
        }
        snprintf(err, errlen, "--log-level %s: error, warn, info or debug",
                 arg);
        return -EINVAL;
    case OPT_HELP:
        cfg->show_help = 1;
        return 0;
    case OPT_VERSION:
        cfg->show_version = 1;
        return 0;
    default:
        snprintf(err, errlen, "unknown or incomplete option (see --help)");
        return -EINVAL;
    }
}

int config_apply(const char *name, const char *arg, struct vm_config *cfg,
                 char *err, size_t errlen)
{
    for (const struct option *o = options; o->name; o++)
        if (!strcmp(o->name, name))
            return parse_one(o->val, arg, cfg, err, errlen);
    return -ENOENT;
}

int config_option_has_arg(const char *name)
{
    for (const struct option *o = options; o->name; o++)
        if (!strcmp(o->name, name))
            return o->has_arg == required_argument;
    return -ENOENT;
}

void config_free(struct vm_config *cfg)
{
    json_object_put(cfg->file);
    cfg->file = NULL;
}

/* First pass: find --config (any spelling getopt accepts) and apply the
 * file, so the command line can override it. */
static int load_config_option(int argc, char **argv, struct vm_config *cfg,
                              char *err, size_t errlen)
{
    int opt;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt != OPT_CONFIG)
            continue;
        if (cfg->config_file) {
            snprintf(err, errlen, "--config given twice");
            return -EINVAL;
        }
        cfg->config_file = optarg;
        if (config_load_file(optarg, cfg, err, errlen) < 0)
            return -EINVAL;
    }
    return 0;
}

static int check_combination(struct vm_config *cfg, char *err, size_t errlen)
{
    if (cfg->restore && (cfg->kernel || cfg->initrd)) {
        snprintf(err, errlen, "--restore takes no --kernel or --initrd: "
                 "the snapshot holds the guest");
        return -EINVAL;
    }
    if (cfg->incoming && (cfg->kernel || cfg->initrd || cfg->restore)) {
        snprintf(err, errlen, "--incoming takes no --kernel, --initrd or "
                 "--restore: the source sends the guest");
        return -EINVAL;
    }
    if (!cfg->kernel && !cfg->restore && !cfg->incoming &&
        !cfg->show_help && !cfg->show_version) {
        snprintf(err, errlen, "no --kernel given (see --help)");
        return -EINVAL;
    }
    return 0;
}

int config_parse(int argc, char **argv, struct vm_config *cfg, char *err,
                 size_t errlen)
{
    int opt;

    memset(cfg, 0, sizeof(*cfg));
    cfg->cpus = 1;
    cfg->memory = CONFIG_DEFAULT_MEMORY;
    cfg->cmdline = "";
    if (load_config_option(argc, argv, cfg, err, errlen) < 0)
        return -EINVAL;
    optind = 0; /* reset getopt: parse may run more than once (tests) */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if ((opt == '?' || opt == ':') && optopt > 0 && optopt < OPT_KERNEL) {
            /* A short option: optind may still point at its cluster. */
            snprintf(err, errlen, "unknown option '-%c' (see --help)",
                     optopt);
            return -EINVAL;
        }
        if (opt == '?' || opt == ':') {
            snprintf(err, errlen, "unknown option or missing value: '%s' "
                     "(see --help)", argv[optind - 1]);
            return -EINVAL;
        }
        if (parse_one(opt, optarg, cfg, err, errlen) < 0)
            return -EINVAL;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)",
                 argv[optind]);
        return -EINVAL;
    }
    return check_combination(cfg, err, errlen);
}
