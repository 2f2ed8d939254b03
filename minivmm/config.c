/* SPDX-License-Identifier: BSD-3-Clause */
/* Command-line parsing (see config.h). */
#include "minivmm/config.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/config_file.h"
#include "minivmm/config_opts.h"
#include "minivmm/config_viommu.h"

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
"                       is logged: stderr or --log-file), socket:PATH\n"
"                       (attach with minivmm-ctl PATH console) or none\n"
"  --cpu-features LIST  hide (-) or force (+) CPUID features, e.g.\n"
"                       -xsave,-cx16\n"
"  --disk path=FILE[,readonly][,id=NAME][,iommu=on|off][,slot=N]\n"
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
"  --migrate-rt-boost on|off\n"
"                       a bounded real-time (SCHED_FIFO) boost of the\n"
"                       threads on a migration's stop path, source and\n"
"                       destination, where permitted (CAP_SYS_NICE or\n"
"                       RLIMIT_RTPRIO); default on (docs/migration.md,\n"
"                       \"Real-time boost\")\n"
"  --api-socket PATH    JSON control API on UNIX socket PATH (docs/api.md)\n"
"  --event-log FILE     append every API event to FILE (JSON lines with a\n"
"                       timestamp; docs/api.md \"Events\")\n"
"  --shutdown-timeout SECONDS\n"
"                       SIGTERM/SIGINT press the ACPI power button and\n"
"                       give the guest SECONDS to power off before the hard\n"
"                       stop (a second signal stops at once); 0 (default):\n"
"                       stop at once\n"
"  --config FILE        VM description in JSON, keys named like these\n"
"                       options (docs/vm.schema.json); options given here\n"
"                       override its values and add to its lists\n"
"  --vfio-user socket=PATH[,id=NAME][,dma=fd|message][,reconnect=SECONDS]\n"
"              [,timeout=MS][,iommu=on|off][,slot=N]\n"
"                       PCI device served by the vfio-user server at PATH\n"
"                       (repeatable); dma=message shares no guest memory\n"
"                       fd; reconnect: retry a failed server every SECONDS;\n"
"                       iommu=off: not behind --viommu; slot=N (here and\n"
"                       in --disk): its PCI slot, 1-31 (default: the first\n"
"                       free one)\n"
"  --viommu virtio[,input-bits=N][,page-size=SIZE]\n"
"                       virtio-iommu for the guest (ACPI VIOT) in front of\n"
"                       every PCI device (but those with iommu=off):\n"
"                       input range N bits (12-64, default 48), page\n"
"                       granule SIZE (4K default, up to 1G); each device's\n"
"                       DMA backend is checked against both at start\n"
"                       (docs/viommu.md)\n"
"     or --viommu intel[,aw-bits=39|48][,caching-mode=on]\n"
"                       Intel VT-d remapping unit instead (ACPI DMAR, every\n"
"                       PCI device behind it): guest address width 39 or\n"
"                       48 bits (default 48; each device's DMA backend must\n"
"                       reach it), caching mode always on; no interrupt\n"
"                       remapping (xAPIC, at most 255 vCPUs), no iommu=off,\n"
"                       no device-add\n"
"  --seccomp on|log|off per-thread syscall allow-lists, installed once\n"
"                       set-up is done (default on: a forbidden syscall\n"
"                       kills minivmm with SIGSYS; log: only logged to\n"
"                       the kernel log; docs/security.md)\n"
"  --user USER          after set-up (/dev/kvm, sockets, files opened),\n"
"                       drop root and run as USER (name or uid)\n"
"  --group GROUP        ... and as GROUP (default: USER's login group)\n"
"  --log-level LEVEL    error, warn, info (default) or debug: messages\n"
"                       below LEVEL's importance are not written (debug:\n"
"                       the start-up timeline, docs/platform.md)\n"
"  --log-file PATH      write messages to PATH (appended; created 0600,\n"
"                       never through a symlink) instead of stderr\n"
"  --help               this text\n"
"  --version            version\n"
"\n"
"Exit status: 0 guest powered off; 1 host error; 2 bad command line or\n"
"input file; 3 guest reset; 4 guest crashed (triple fault, KVM internal\n"
"error); V when the guest writes V to the test-exit port 0xf4.\n");
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
    while ((opt = getopt_long(argc, argv, "", config_options(), NULL)) != -1) {
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
    return config_viommu_check(cfg, err, errlen);
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
    while ((opt = getopt_long(argc, argv, "", config_options(), NULL)) != -1) {
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
        if (config_apply_opt(opt, optarg, cfg, err, errlen) < 0)
            return -EINVAL;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)",
                 argv[optind]);
        return -EINVAL;
    }
    return check_combination(cfg, err, errlen);
}
