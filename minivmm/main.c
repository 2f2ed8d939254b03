/* SPDX-License-Identifier: BSD-3-Clause */
/* minivmm: command line → VM → exit status (docs/platform.md). The only
 * place that calls exit(). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "minivmm/config.h"
#include "vmm/host_limits.h"
#include "vmm/log.h"
#include "minivmm/migration_in.h"
#include "minivmm/privdrop.h"
#include "minivmm/restore.h"
#include "vmm/version.h"
#include "minivmm/startup.h"
#include "minivmm/vm.h"
#include "vmm/clock.h"
#include "vmm/log.h"

#define EXIT_USAGE 2

/* --log-level and --log-file (vmm/log.h), applied as soon as the
 * configuration is parsed: every later message, debug ones included,
 * follows them (a bad command line is reported on stderr). 0 or -errno
 * with the reason in @err. */
static int setup_log(const struct vm_config *cfg, char *err, size_t errlen)
{
    int r;

    if (cfg->log_level)
        log_set_level_name(cfg->log_level); /* checked by config_parse */
    if (!cfg->log_file)
        return 0;
    r = log_open_file(cfg->log_file);
    if (r < 0)
        snprintf(err, errlen, "--log-file %s: %s", cfg->log_file,
                 strerror(-r));
    return r;
}

/* After the VM ran: the full teardown (every free and close) only in
 * sanitizer builds, which check for leaks, or when MINIVMM_FULL_TEARDOWN
 * is set; else vm_exit_fast() (the kernel frees the rest at exit). */
static int finish(struct vm *vm, int status)
{
    bool full = getenv("MINIVMM_FULL_TEARDOWN") != NULL;

#if defined(__SANITIZE_ADDRESS__)
    full = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    full = true;
#endif
#endif
    if (!full)
        vm_exit_fast(vm, status);
    vm_destroy(vm);
    return status;
}

/* Everything but releasing @cfg. */
static int run(int argc, char **argv, struct vm_config *cfg,
               uint64_t t0)
{
    struct boot_image img;
    struct priv_ids ids;
    struct vm *vm = NULL;
    char err[512] = "";
    int r, status;

    if (config_parse(argc, argv, cfg, err, sizeof(err)) < 0 ||
        setup_log(cfg, err, sizeof(err)) < 0) {
        log_err("minivmm: %s", err);
        return EXIT_USAGE;
    }
    cfg->start_ns = t0;
    startup_origin(t0);
    startup_mark(t0, "config parsed");
    if (cfg->show_help) {
        config_usage(stdout);
        return 0;
    }
    if (cfg->show_version) {
        printf("minivmm %s\n", minivmm_version);
        return 0;
    }
    if (priv_resolve(cfg->user, cfg->group, &ids, err, sizeof(err)) < 0) {
        log_err("minivmm: %s", err);
        return EXIT_USAGE;
    }
    if (cfg->restore || cfg->incoming) {
        r = cfg->restore ? restore_vm(cfg, &vm, err, sizeof(err)) :
                          migration_incoming(cfg, &vm, err, sizeof(err));
        if (r < 0) {
            log_err("minivmm: %s", err);
            vm_destroy(vm);
            return ((cfg->restore && (r == -EINVAL || r == -ENOENT ||
                                      r == -EACCES || r == -ENOSPC)) ||
                    r == -EADDRINUSE || r == -EEXIST) ?
                   EXIT_USAGE : EXIT_FAILURE;
        }
        status = vm_run(vm);
        return finish(vm, status);
    }
    if (host_check_memory(cfg->memory, "--memory", err, sizeof(err)) < 0 ||
        boot_image_open(&img, cfg->kernel, cfg->initrd, cfg->cmdline, err,
                        sizeof(err)) < 0) {
        log_err("minivmm: %s", err);
        return EXIT_USAGE;
    }
    startup_mark(t0, "kernel read");
    r = vm_create(cfg, &img, &vm, err, sizeof(err));
    boot_image_close(&img);
    if (r < 0) {
        log_err("minivmm: %s", err);
        vm_destroy(vm);
        return (r == -EINVAL || r == -ENOSPC || r == -EADDRINUSE ||
                r == -EEXIST) ? EXIT_USAGE : EXIT_FAILURE;
    }
    status = vm_run(vm);
    return finish(vm, status);
}

int main(int argc, char **argv)
{
    uint64_t t0 = clock_now_ns(); /* the timeline's zero */
    struct vm_config cfg;
    int status = run(argc, argv, &cfg, t0);

    config_free(&cfg);
    return status;
}
