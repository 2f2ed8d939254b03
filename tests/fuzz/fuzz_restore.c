/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: restoring from a snapshot file end to end
 * (vmm/restore.c: restore_vm()), i.e. what `minivmm --restore FILE` does
 * with a hostile file before a VM exists: open it (snap_reader_open: the
 * header, section table, checksums), the state tree's config against the
 * header and the host's limits, guest RAM creation and the RAM load, then
 * the state tree handed to the VM. No KVM: vm_restore is a stub that
 * checks what it is given (the tree, the RAM) and takes the memory over;
 * the KVM VM's thread (minivmm/kvm_early.h) is a stub handle that checks
 * the RAM it is asked to map (restore.c maps it from the header's size
 * before the file is checked, so that path runs on hostile headers too);
 * vCPU, irqchip and device state loads (vmstate_load) need KVM and are not
 * reached here.
 *
 * FUZZ_SRCS: minivmm/restore.c minivmm/persist/snapshot_read.c minivmm/persist/snapshot_load.c minivmm/persist/snapshot_fmt.c vmm/memory.c
 * FUZZ_SRCS: vmm/host_limits.c minivmm/persist/vmstate.c vmm/state.c vmm/devreg.c vmm/log.c
 * FUZZ_SRCS: minivmm/startup.c minivmm/persist/snapshot_lazy.c
 * FUZZ_PKGS: libxxhash
 * FUZZ_LIBS: -lfdt
 *
 * Input: the bytes of a snapshot file (given as /proc/self/fd/N of a
 * memfd), every checksum recomputed first (fuzz_sums.h: mutations reach
 * the checks behind the checksums). Invariants (abort on violation): a refusal carries a reason; an
 * accepted restore hands over a state tree that passes fdt_check_full and
 * whose config names the RAM size restored, with that much guest RAM.
 * RAM sizes above 64 MiB are refused here before any allocation (the
 * real limit is the host's; the fuzzer's memory is not).
 * Seeds: tests/fuzz/corpus/fuzz_restore/ (a real snapshot of a small VM).
 */
#include <errno.h>
#include <libfdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minivmm/config.h"
#include "minivmm/kvm_early.h"
#include "vmm/memory.h"
#include "minivmm/restore.h"
#include "minivmm/persist/snapshot_lazy.h"
#include "minivmm/vm.h"
#include "vmm/seccomp.h"

/* The loader threads' filters are compiled at build time into the
 * library (vmm/seccomp_bpf.h), which this target does not link: no
 * filter here (the fuzzer is not the place to test them). */
int sc_install(enum sc_thread t, enum sc_mode mode)
{
    (void)t;
    (void)mode;
    return 0;
}
#include "minivmm/persist/vmstate.h"
#include "fuzz_sums.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

/* The KVM VM's thread, without KVM: records that guest RAM was mapped. */
struct kvm_early {
    uint64_t ram_size;
};

int kvm_early_start(struct kvm_early **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

void kvm_early_map(struct kvm_early *e, const struct guest_memory *mem)
{
    check(mem->base && mem->nregions >= 1 && mem->ram_size > 0 &&
          mem->ram_size <= (64u << 20) && !e->ram_size);
    e->ram_size = mem->ram_size;
}

void kvm_early_cancel(struct kvm_early *e)
{
    free(e);
}

struct vm {
    struct guest_memory mem;
    struct snap_lazy *lazy; /* the on-demand loader, taken over */
};

int vm_restore(const struct vm_config *cfg, const struct vm_restore *rs,
               struct vm **out, char *err, size_t errlen)
{
    struct vm *vm;
    unsigned int cpus;
    uint64_t memory;

    check(rs->state && rs->mem && rs->mem->base);
    check(fdt_check_full(rs->state, fdt_totalsize(rs->state)) == 0);
    check(vmstate_config(rs->state, &cpus, &memory, err, errlen) == 0);
    check(cpus == cfg->cpus && memory == cfg->memory &&
          memory == rs->mem->ram_size);
    check(rs->early && rs->early->ram_size == memory); /* mapped, sized */
    kvm_early_cancel(rs->early); /* taken over */
    vm = calloc(1, sizeof(*vm));
    if (!vm)
        return -ENOMEM;
    vm->mem = *rs->mem; /* taken over */
    vm->lazy = rs->lazy;
    memset(rs->mem, 0, sizeof(*rs->mem));
    rs->mem->fd = -1;
    *out = vm;
    return 0;
}

/* The 64-byte header's RAM size (docs/snapshot-format.md): offset 24. */
static uint64_t claimed_ram(const uint8_t *data, size_t size)
{
    uint64_t v = 0;

    if (size >= 32)
        memcpy(&v, data + 24, 8);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[512] = "";
    struct vm_config cfg;
    struct vm *vm = NULL;
    uint8_t *copy;
    int fd, r;

    if (claimed_ram(data, size) > (64u << 20))
        return 0;
    copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    fuzz_fix_sums(copy, size);
    fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0 || write(fd, copy, size) != (ssize_t)size)
        abort();
    free(copy);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    memset(&cfg, 0, sizeof(cfg));
    cfg.restore = path;
    r = restore_vm(&cfg, &vm, err, sizeof(err));
    if (getenv("FUZZ_VERBOSE")) /* to check what a seed reaches */
        fprintf(stderr, "fuzz_restore: %d %s\n", r, r < 0 ? err : "ok");
    check(r == 0 ? vm != NULL : err[0] != 0);
    if (vm) {
        if (vm->lazy) { /* as the VM does: every section loaded, checked */
            char why[256];
            (void)snap_lazy_wait(vm->lazy, why, sizeof(why));
            snap_lazy_destroy(vm->lazy);
        }
        guest_memory_destroy(&vm->mem);
        free(vm);
    }
    close(fd);
    return 0;
}
