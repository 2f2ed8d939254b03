/* SPDX-License-Identifier: BSD-3-Clause */
/* Restore from a snapshot file (see restore.h): guest RAM on demand
 * (persist/snapshot_lazy.h) or, with prefault=on or an fd-DMA device,
 * loaded before the VM is built (snap_reader_load_ram). The KVM VM and
 * its memslots are made on a thread meanwhile (kvm_early.h). */
#include "minivmm/restore.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "minivmm/config.h"
#include "minivmm/kvm_early.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_lazy.h"
#include "minivmm/startup.h"
#include "minivmm/vm.h"
#include "minivmm/persist/vmstate.h"
#include "vmm/host_limits.h"
#include "vmm/log.h"
#include "vmm/memory.h"

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A vfio-user device that maps guest RAM by fd reaches it outside the
 * VMM's userfaultfd registration (docs/snapshot-format.md, "On-demand
 * restore"). */
static bool has_fd_dma(const struct vm_config *cfg)
{
    for (unsigned int i = 0; i < cfg->nvfio; i++)
        if (!cfg->vfio[i].dma_message)
            return true;
    return false;
}

/* vCPUs, RAM size and the host's room for it, from the file. */
static int check_config(struct vm_config *cfg, struct snap_reader *snap,
                        const void *state, char *err, size_t errlen)
{
    uint64_t given = cfg->memory;
    char why[384];
    int r = vmstate_config(state, &cfg->cpus, &cfg->memory, why,
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
    return r;
}

/* Guest RAM from @*snap into @mem: on demand through the loader of
 * persist/snapshot_lazy.h (*@lazy set; @*snap then belongs to it and is
 * NULLed); or, with prefault=on or an fd-DMA vfio-user device, hugetlb
 * RAM, or a host without shmem userfaultfd, loaded here before any device
 * is built (snap_reader_load_ram: parallel preadv or O_DIRECT straight
 * into guest memory). 0 or -errno with the reason in @err. */
static int load_ram(struct vm_config *cfg, struct snap_reader **snap,
                    struct guest_memory *mem, struct snap_lazy **lazy,
                    char *err, size_t errlen)
{
    bool wait = cfg->restore_prefault || has_fd_dma(cfg);
    char why[384];
    int r = -EOPNOTSUPP;

    if (wait)
        log_debug("minivmm: restore: loading guest RAM before starting "
                  "(%s)", cfg->restore_prefault ? "prefault=on" :
                  "fd-DMA vfio-user device");
    else if (cfg->hugepages)
        log_debug("minivmm: restore: hugepages: loading guest RAM before "
                  "starting");
    else
        r = snap_lazy_start(*snap, mem, 1, cfg->seccomp, lazy, why,
                            sizeof(why));
    if (r == -EOPNOTSUPP && !wait && !cfg->hugepages)
        log_info("minivmm: %s; loading guest RAM before starting", why);
    else if (r != -EOPNOTSUPP)
        *snap = NULL; /* the loader's now, even on failure */
    if (r == -EOPNOTSUPP) {
        r = snap_reader_load_ram(*snap, mem, why, sizeof(why));
        r = r < 0 ? -EINVAL : 0;
    }
    if (r < 0)
        snprintf(err, errlen, "%s: %s", cfg->restore, why);
    return r;
}

int restore_vm(struct vm_config *cfg, struct vm **out, char *err,
               size_t errlen)
{
    struct guest_memory mem = { .fd = -1 };
    struct guest_memory_opts mo = { .hugepages = cfg->hugepages };
    struct vm_restore rs = { .mem = &mem };
    struct snap_reader *snap;
    struct timespec t0;
    size_t len;
    int r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    *out = NULL;
    if (kvm_early_start(&rs.early) < 0)
        log_debug("minivmm: restore: no thread for the KVM VM; made "
                  "inline");
    r = snap_reader_open(cfg->restore, &snap, err, errlen);
    if (r < 0) {
        kvm_early_cancel(rs.early);
        return r;
    }
    rs.state = snap_reader_state(snap, &len);
    r = check_config(cfg, snap, rs.state, err, errlen);
    if (r == 0)
        startup_mark(cfg->start_ns, "snapshot validated");
    if (r == 0)
        r = guest_memory_create_opts(cfg->memory, &mo, &mem, err, errlen);
    if (r == 0 && rs.early)
        kvm_early_map(rs.early, &mem); /* memslots while the loader starts */
    if (r == 0 && (r = load_ram(cfg, &snap, &mem, &rs.lazy, err,
                                errlen)) == 0)
        startup_mark(cfg->start_ns, rs.lazy ? "guest RAM: on-demand "
                     "loading started" : "guest RAM loaded");
    if (r == 0) {
        r = vm_restore(cfg, &rs, out, err, errlen);
    } else {
        kvm_early_cancel(rs.early); /* before the RAM it maps goes */
        snap_lazy_destroy(rs.lazy);
    }
    guest_memory_destroy(&mem); /* no-op once the VM took it */
    snap_reader_close(snap);    /* NULL when the loader has it */
    if (r == 0)
        log_info("minivmm: restored %s (%u vCPUs, %llu MiB) in %.1f ms%s",
                 cfg->restore, cfg->cpus,
                 (unsigned long long)(cfg->memory >> 20), ms_since(&t0),
                 rs.lazy ? ", guest RAM loading on demand" : "");
    return r;
}
