/* SPDX-License-Identifier: BSD-3-Clause */
/* Restore from a snapshot file (see restore.h). */
#include "minivmm/restore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "minivmm/config.h"
#include "vmm/clock.h"
#include "vmm/host_limits.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/vmstate.h"
#include "minivmm/vm.h"

int restore_vm(struct vm_config *cfg, struct vm **out, char *err,
               size_t errlen)
{
    struct guest_memory mem = { .fd = -1 };
    struct guest_memory_opts mo = { .hugepages = cfg->hugepages };
    struct vm_restore rs = { .mem = &mem };
    struct snap_reader *snap;
    uint64_t t0 = clock_now_us();
    char why[384];
    uint64_t given;
    size_t len;
    int r;

    *out = NULL;
    r = snap_reader_open(cfg->restore, &snap, err, errlen);
    if (r < 0)
        return r;
    rs.state = snap_reader_state(snap, &len);
    given = cfg->memory;
    r = vmstate_config(rs.state, &cfg->cpus, &cfg->memory, why,
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
        log_info("minivmm: restored %s (%u vCPUs, %llu MiB) in %.1f ms",
                 cfg->restore, cfg->cpus,
                 (unsigned long long)(cfg->memory >> 20),
                 (double)(clock_now_us() - t0) / 1e3);
    return r;
}
