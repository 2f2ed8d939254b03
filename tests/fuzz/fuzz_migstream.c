/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the live-migration stream parser, i.e. everything a
 * corrupt or hostile source reaches at the destination before a VM is
 * built (vmm/migration_fmt.c: header, section order and bounds, RAM
 * ranges, device ids, state tree, END counts), plus the reply record and
 * the URI parser.
 *
 * FUZZ_SRCS: minivmm/persist/migration_fmt.c minivmm/persist/snapshot_fmt.c vmm/devreg.c minivmm/persist/migration_net.c
 * FUZZ_PKGS: libxxhash
 * FUZZ_LIBS: -lfdt
 *
 * Input: the bytes of a stream. Invariants (abort on violation): a
 * refusal carries a reason; an accepted stream's RAM sections lie inside
 * guest RAM of the header's size, every device id is a valid registry id,
 * the state tree passes fdt_check_full, and exactly one state was seen.
 * Seeds: tests/fuzz/corpus/fuzz_migstream/ (a stream written by
 * vmm/migration_send.c for the unit test's fake RAM).
 */
#include <errno.h>
#include <libfdt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devreg.h"
#include "minivmm/persist/migration_fmt.h"
#include "minivmm/persist/migration_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    uint64_t ram_size;
    unsigned int states;
};

static int on_ram(void *opaque, uint32_t type, const struct snap_ram *r,
                  const uint8_t *pages)
{
    struct seen *s = opaque;
    volatile uint8_t sink = 0;

    if (type != SNAP_SEC_RAM && type != MIG_SEC_RAM_DIRTY)
        abort();
    if (!mig_ram_range_ok(s->ram_size, r->gpa, (uint64_t)r->npages * 4096))
        abort();
    for (uint32_t i = 0; i < r->present; i++)
        sink ^= pages[(uint64_t)i * 4096 + 4095];
    (void)sink;
    return 0;
}

static int on_device(void *opaque, const char *id, const uint8_t *d,
                     size_t len)
{
    volatile uint8_t sink = 0;

    (void)opaque;
    if (!devreg_valid_id(id))
        abort();
    for (size_t i = 0; i < len; i++)
        sink ^= d[i];
    (void)sink;
    return 0;
}

static int on_state(void *opaque, const void *fdt, size_t len)
{
    struct seen *s = opaque;

    if (fdt_check_full(fdt, len) != 0)
        abort();
    s->states++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = { 0 };
    struct mig_visitor v = { on_ram, on_device, on_state, &s };
    char err[256] = "", why[MIG_REPLY_SIZE], uri[MIG_URI_MAX];
    struct snap_header h;
    struct mig_uri u;
    uint32_t status;
    int r;

    if (size >= SNAP_HEADER_SIZE &&
        snap_header_decode(data, size, &h, err, sizeof(err)) == 0)
        s.ram_size = h.ram_size;
    err[0] = 0;
    r = mig_parse_buffer(data, size, &v, err, sizeof(err));
    if (r < 0 && !err[0])
        abort();
    if (r == 0 && s.states != 1)
        abort();
    if (size >= MIG_REPLY_SIZE)
        mig_reply_decode(data, &status, why, sizeof(why));
    if (size < sizeof(uri)) {
        memcpy(uri, data, size);
        uri[size] = 0;
        err[0] = 0;
        if (mig_uri_parse(uri, &u, err, sizeof(err)) < 0 && !err[0])
            abort();
    }
    return 0;
}
