/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the snapshot loader, i.e. everything a corrupt or
 * hostile snapshot file reaches before a VM exists.
 *
 * FUZZ_SRCS: minivmm/persist/snapshot_fmt.c minivmm/persist/snapshot_read.c minivmm/persist/snapshot_load.c vmm/memory.c
 * FUZZ_SRCS: vmm/state.c minivmm/api_parse.c vmm/log.c
 * FUZZ_PKGS: libxxhash json-c
 * FUZZ_LIBS: -lfdt
 *
 * Input: the bytes of a snapshot file. Both readers run on it: the
 * in-memory parser (snap_parse_buffer) and the file reader
 * (snap_reader_open_fd over a memfd, then snap_reader_load_ram into guest
 * RAM of the size the header claims, when that is at most 64 MiB).
 * Invariants (abort on violation): the two readers agree on accept or
 * refuse; a refusal always carries a reason; an accepted file's state tree
 * passes fdt_check_full and every RAM page it names lies inside RAM.
 * The same bytes also go through the control API's request parser.
 * Seeds: tests/fuzz/corpus/fuzz_snapshot/ (a real snapshot of a small
 * VM); with checksums on, the fuzzer mostly explores the header and
 * section-header checks, which is where a hostile file strikes first.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minivmm/api.h"
#include "vmm/memory.h"
#include "minivmm/persist/snapshot_file.h"
#include "minivmm/persist/snapshot_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    uint64_t pages;
};

static int on_state(void *opaque, const void *fdt, size_t len)
{
    (void)opaque;
    if (fdt_check_full(fdt, len) != 0)
        abort();
    return 0;
}

static int on_ram(void *opaque, const struct snap_ram *r,
                  const uint8_t *pages)
{
    struct seen *s = opaque;
    volatile uint8_t sink = 0;

    for (uint32_t i = 0, k = 0; i < r->npages; i++)
        if (snap_ram_page_present(r, i))
            sink ^= pages[(uint64_t)k++ * SNAP_PAGE_SIZE + 4095];
    (void)sink;
    s->pages += r->present;
    return 0;
}

/* The file reader over a memfd: 0 accepted, <0 refused. */
static int file_reader(const uint8_t *data, size_t size)
{
    struct snap_reader *r;
    struct guest_memory mem;
    char err[256] = "";
    int fd = memfd_create("fuzz", MFD_CLOEXEC), ret;

    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    ret = snap_reader_open_fd(fd, &r, err, sizeof(err));
    if (ret < 0) {
        if (!err[0])
            abort();
        return ret;
    }
    if (snap_reader_ram_size(r) <= (64u << 20) &&
        guest_memory_create(snap_reader_ram_size(r), &mem) == 0) {
        ret = snap_reader_load_ram(r, &mem, err, sizeof(err));
        if (ret < 0 && !err[0])
            abort();
        guest_memory_destroy(&mem);
    }
    snap_reader_close(r);
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = { 0 };
    struct snap_visitor v = { on_state, on_ram, &s };
    struct api_request req;
    char err[256] = "";
    int a = snap_parse_buffer(data, size, &v, err, sizeof(err));
    int b;

    if (a < 0 && !err[0])
        abort();
    b = file_reader(data, size);
    /* The file reader may also refuse for RAM outside the VM's regions
     * (the buffer parser only bounds it), never accept what the parser
     * refused. */
    if (a < 0 && b == 0)
        abort();
    api_parse_request((const char *)data, size, &req, err, sizeof(err));
    return 0;
}
