/* SPDX-License-Identifier: BSD-3-Clause */
/* Writes a seed for fuzz_migrx to stdout: a whole migration stream as
 * vmm/migration_send.c writes it (1 vCPU, 8 MiB of RAM with three
 * non-zero pages, a dirty pass, a state tree with /config, END), then GO.
 * Not a fuzz target (no fuzz_ prefix); build and run by hand:
 *   cc -I. -D_GNU_SOURCE tests/fuzz/seedgen_migrx.c build/libminivmm.a \
 *      $(pkg-config --libs libxxhash json-c liburing libcrypto) -lfdt \
 *      -lpthread -o /tmp/seedgen && /tmp/seedgen > SEED */
#include <libfdt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/memory.h"
#include "minivmm/persist/migration_fmt.h"
#include "minivmm/persist/migration_send.h"
#include "vmm/state.h"
#include "minivmm/persist/vmstate.h"

#define RAM_PAGES 2048u

static void *copy_out(void *arg)
{
    char buf[65536];
    ssize_t n;

    while ((n = read(*(int *)arg, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            exit(1);
    return NULL;
}

int main(void)
{
    static uint8_t ram[RAM_PAGES * 4096];
    struct guest_memory mem = {.fd = -1, .ram_size = sizeof(ram),
                               .nregions = 1};
    uint64_t bits[RAM_PAGES / 64] = {0}, sent;
    char fdt[1024];
    struct mig_tx tx;
    pthread_t t;
    int sv[2], cn;

    mem.regions[0] = (struct guest_region){.size = sizeof(ram), .hva = ram,
                                           .fd = -1};
    ram[4096 + 7] = ram[5 * 4096] = ram[1500 * 4096 + 4095] = 1;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return 1;
    pthread_create(&t, NULL, copy_out, &sv[1]);
    fdt_create_empty_tree(fdt, sizeof(fdt));
    fdt_setprop_string(fdt, 0, "compatible", VMSTATE_COMPATIBLE);
    cn = fdt_add_subnode(fdt, 0, "config");
    state_put_u32(fdt, cn, "cpus", 1);
    state_put_u64(fdt, cn, "memory", sizeof(ram));
    fdt_pack(fdt);
    bits[0] = 1u << 5 | 1u << 7;
    if (mig_tx_init(&tx, sv[0], &mem) || mig_tx_header(&tx, 1) ||
        mig_tx_ram_all(&tx) || mig_tx_ram_dirty(&tx, bits, &sent) ||
        mig_tx_state_end(&tx, fdt, fdt_totalsize(fdt)))
        return 1;
    mig_tx_fini(&tx);
    if (write(sv[0], MIG_GO, MIG_GO_SIZE) != MIG_GO_SIZE)
        return 1;
    close(sv[0]);
    pthread_join(t, NULL);
    return 0;
}
