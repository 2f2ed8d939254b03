/* SPDX-License-Identifier: BSD-3-Clause */
/* Restore from a snapshot file (see restore.h). */
#include "minivmm/restore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "minivmm/config.h"
#include "vmm/host_limits.h"
#include "vmm/memory.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/vm.h"
#include "minivmm/vmctl.h"

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

int restore_vm(struct vm_config *cfg, struct vm **out, char *err,
               size_t errlen)
{
    struct guest_memory mem = { .fd = -1 };
    struct guest_memory_opts mo = { .hugepages = cfg->hugepages };
    struct vm_restore rs = { .mem = &mem };
    struct snap_reader *snap;
    struct timespec t0;
    char why[384];
    uint64_t given;
    size_t len;
    int r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    *out = NULL;
    r = snap_reader_open(cfg->restore, &snap, err, errlen);
    if (r < 0)
        return r;
    rs.state = snap_reader_state(snap, &len);
    given = cfg->memory;
    r = vmctl_state_config(rs.state, &cfg->cpus, &cfg->memory, why,
                           sizeof(why));
    if (r == 0 && cfg->memory_given && given != cfg->memory) {
        snprintf(why, sizeof(why), "the snapshot has %llu MiB of guest "
                 "RAM, --memory says %llu MiB (leave --memory out, or give "
                 "the saved size)", (unsigned long long)(cfg->memory >> 20),
                 (unsigned long long)(given >> 20));
        r = -EINVAL;
    }
    if (r == 0 && cfg->memory != snap_reader_ram_size(snap)) {
        snprintf(why, sizeof(why), "state tree and header disagree on the "
                 "RAM size");
        r = -EINVAL;
    }
    if (r == 0)
        r = host_check_memory(cfg->memory, "the snapshot", why, sizeof(why));
    if (r < 0)
        snprintf(err, errlen, "%s: %s", cfg->restore, why);
    if (r == 0)
        r = guest_memory_create_opts(cfg->memory, &mo, &mem, err, errlen);
    if (r == 0 && snap_reader_load_ram(snap, &mem, why,
                                            sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", cfg->restore, why);
        r = -EINVAL;
    }
    if (r == 0)
        r = vm_restore(cfg, &rs, out, err, errlen);
    guest_memory_destroy(&mem); /* no-op once the VM took it */
    snap_reader_close(snap);
    if (r == 0)
        fprintf(stderr, "minivmm: restored %s (%u vCPUs, %llu MiB) in "
                "%.1f ms\n", cfg->restore, cfg->cpus,
                (unsigned long long)(cfg->memory >> 20), ms_since(&t0));
    return r;
}
