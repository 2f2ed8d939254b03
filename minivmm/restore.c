/* SPDX-License-Identifier: BSD-3-Clause */
/* Restore from a snapshot file (see restore.h): guest RAM on demand
 * (persist/snapshot_lazy.h) or, with prefault=on or an fd-DMA device,
 * loaded before the VM is built (snap_reader_load_ram). The KVM VM and
 * its memslots are made on a thread meanwhile (kvm_early.h). */
#include "minivmm/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "minivmm/config.h"
#include "minivmm/kvm_early.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_fmt.h"
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

/* The RAM size in the header of @path, read ahead of the full open so
 * guest RAM can be mapped and its memslots go in (kvm_early.h) while the
 * rest of the file is checked; 0 when the header cannot be read, the size
 * differs from --memory or does not fit the host (snap_reader_open() and
 * check_config() then say why, as before). */
static uint64_t peek_ram_size(const struct vm_config *cfg)
{
    uint8_t hb[SNAP_HEADER_SIZE];
    struct snap_header h;
    struct stat st;
    char why[256];
    int fd = open(cfg->restore, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              pread(fd, hb, sizeof(hb), 0) == (ssize_t)sizeof(hb) &&
              snap_header_decode(hb, sizeof(hb), &h, why, sizeof(why)) == 0;

    if (fd >= 0)
        close(fd);
    if (!ok || (cfg->memory_given && cfg->memory != h.ram_size) ||
        host_check_memory(h.ram_size, "the snapshot", why, sizeof(why)) < 0)
        return 0;
    return h.ram_size;
}

/* Guest RAM of the header's size, and the memslots for it started on
 * @early's thread; *@mapped false when not done (the caller maps it once
 * the file is checked). */
static void map_early(const struct vm_config *cfg, struct kvm_early *early,
                      struct guest_memory *mem, bool *mapped)
{
    struct guest_memory_opts mo = { .hugepages = cfg->hugepages };
    uint64_t size = early ? peek_ram_size(cfg) : 0;
    char why[256];

    *mapped = size && guest_memory_create_opts(size, &mo, mem, why,
                                               sizeof(why)) == 0;
    if (*mapped)
        kvm_early_map(early, mem);
}

/* Guest RAM of @cfg->memory (checked against the file), unless
 * map_early() made it: the file must not have changed size since. */
static int map_ram(const struct vm_config *cfg, struct kvm_early *early,
                   struct guest_memory *mem, bool mapped, char *err,
                   size_t errlen)
{
    struct guest_memory_opts mo = { .hugepages = cfg->hugepages };
    int r;

    if (mapped && mem->ram_size != cfg->memory) {
        snprintf(err, errlen, "%s: the file changed while it was read",
                 cfg->restore);
        return -EINVAL;
    }
    if (mapped)
        return 0;
    r = guest_memory_create_opts(cfg->memory, &mo, mem, err, errlen);
    if (r == 0 && early)
        kvm_early_map(early, mem);
    return r;
}

int restore_vm(struct vm_config *cfg, struct vm **out, char *err,
               size_t errlen)
{
    struct guest_memory mem = { .fd = -1 };
    struct vm_restore rs = { .mem = &mem };
    struct snap_reader *snap;
    struct timespec t0;
    bool mapped;
    size_t len;
    int r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    *out = NULL;
    if (kvm_early_start(&rs.early) < 0)
        log_debug("minivmm: restore: no thread for the KVM VM; made "
                  "inline");
    map_early(cfg, rs.early, &mem, &mapped);
    if (mapped)
        startup_mark(cfg->start_ns, "guest RAM mapped (header's size), "
                     "memslots started on a thread");
    r = snap_reader_open(cfg->restore, &snap, err, errlen);
    if (r < 0) {
        kvm_early_cancel(rs.early);
        guest_memory_destroy(&mem);
        return r;
    }
    rs.state = snap_reader_state(snap, &len);
    r = check_config(cfg, snap, rs.state, err, errlen);
    if (r == 0)
        startup_mark(cfg->start_ns, "snapshot validated");
    if (r == 0) /* memslots while the loader starts */
        r = map_ram(cfg, rs.early, &mem, mapped, err, errlen);
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
