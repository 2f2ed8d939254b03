/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the live-migration destination end to end
 * (minivmm/migration_in.c: migration_incoming()), over a real UNIX socket:
 * listen, accept, the header and host limits, guest RAM creation, every
 * section received as the destination does (RAM straight into guest
 * memory with its checksum, CONFIG building the VM, STATE checked against
 * the stream's config, END counts), then the hand-over (ready record,
 * GO, RUNNING). No KVM: the VM is a stub that takes the guest memory
 * over (vm_restore with no state) and whose state load checks the tree
 * (vm_load_state); everything before and around it is the real code.
 *
 * FUZZ_SRCS: minivmm/migration_in.c minivmm/persist/migration_fmt.c minivmm/persist/migration_net.c minivmm/persist/migration_auth.c
 * FUZZ_SRCS: minivmm/persist/snapshot_fmt.c vmm/host_limits.c vmm/memory.c minivmm/persist/vmstate.c vmm/state.c vmm/devreg.c vmm/log.c vmm/sched_slice.c vmm/rt_boost.c
 * FUZZ_PKGS: libxxhash libcrypto
 * FUZZ_LIBS: -lfdt
 *
 * Input: the bytes a source sends (the stream, then GO), with every
 * checksum recomputed first (fuzz_sums.h: mutations reach the checks
 * behind the checksums). A thread
 * connects, writes them all, shuts its sending side and reads whatever
 * comes back. Invariants (abort on violation): a refusal carries a
 * reason; an accepted migration built the VM at CONFIG and loaded a
 * state tree that passes fdt_check_full and matches the stream's config.
 * Seeds: tests/fuzz/corpus/fuzz_migrx/ (streams from
 * tests/fuzz/corpus/fuzz_migstream/ followed by GO).
 */
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "minivmm/config.h"
#include "vmm/memory.h"
#include "minivmm/migration_in.h"
#include "minivmm/vm.h"
#include "minivmm/persist/vmstate.h"
#include "fuzz_sums.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

/* ---- the VM, stubbed ---------------------------------------------------- */

struct vm {
    struct guest_memory mem;
    bool loaded;
};

int vm_restore(const struct vm_config *cfg, const struct vm_restore *rs,
               struct vm **out, char *err, size_t errlen)
{
    struct vm *vm = calloc(1, sizeof(*vm));

    check(rs->state == NULL && rs->mem && rs->mem->base);
    check(cfg->memory == rs->mem->ram_size);
    if (!vm) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    vm->mem = *rs->mem; /* taken over */
    memset(rs->mem, 0, sizeof(*rs->mem));
    rs->mem->fd = -1;
    *out = vm;
    return 0;
}

struct guest_memory *vm_guest_memory(struct vm *vm)
{
    return &vm->mem;
}

int vm_load_state(struct vm *vm, const void *fdt, char *err, size_t errlen)
{
    unsigned int cpus;
    uint64_t memory;

    check(fdt_check_full(fdt, fdt_totalsize(fdt)) == 0);
    check(vmstate_config(fdt, &cpus, &memory, err, errlen) == 0);
    check(memory == vm->mem.ram_size);
    vm->loaded = true;
    return 0;
}

static void vm_free(struct vm *vm)
{
    if (!vm)
        return;
    guest_memory_destroy(&vm->mem);
    free(vm);
}

/* ---- the source --------------------------------------------------------- */

struct source {
    const char *path;
    const uint8_t *data;
    size_t size;
};

static void *source_main(void *arg)
{
    struct source *s = arg;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char sink[4096];
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t off = 0;

    snprintf(a.sun_path, sizeof(a.sun_path), "%s", s->path);
    for (int i = 0; i < 2000 && connect(fd, (struct sockaddr *)&a,
                                        sizeof(a)) < 0; i++)
        usleep(500); /* until the destination listens */
    while (off < s->size) {
        ssize_t n = send(fd, s->data + off, s->size - off, MSG_NOSIGNAL);

        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    while (read(fd, sink, sizeof(sink)) > 0)
        ;
    close(fd);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], uri[80], err[512];
    uint8_t *copy = malloc(size ? size : 1);
    struct source s = {path, copy, size};
    struct vm_config cfg;
    struct vm *vm = NULL;
    pthread_t th;
    int r;

    if (!copy)
        abort();
    memcpy(copy, data, size);
    fuzz_fix_sums(copy, size);
    snprintf(path, sizeof(path), "/tmp/fuzz-migrx-%d.sock", (int)getpid());
    snprintf(uri, sizeof(uri), "unix:%s", path);
    unlink(path);
    memset(&cfg, 0, sizeof(cfg));
    cfg.incoming = uri;
    cfg.migrate_timeout_ms = 2000;
    /* No vCPU threads here to end a boost handed over on success: this
     * thread would stay SCHED_FIFO (minivmm/migration_in.c). */
    cfg.migrate_rt_boost_off = true;
    if (pthread_create(&th, NULL, source_main, &s))
        abort();
    r = migration_incoming(&cfg, &vm, err, sizeof(err));
    pthread_join(th, NULL);
    unlink(path);
    if (getenv("FUZZ_VERBOSE")) /* to check what a seed reaches */
        fprintf(stderr, "fuzz_migrx: %d %s (VM built %d, state loaded %d)\n",
                r, r < 0 ? err : "accepted", vm != NULL, vm && vm->loaded);
    if (r < 0)
        check(err[0] != 0);
    else
        check(vm && vm->loaded);
    vm_free(vm);
    free(copy);
    return 0;
}
