/* SPDX-License-Identifier: BSD-3-Clause */
/* Migration stream sender (see migration_send.h). */
#include "minivmm/persist/migration_send.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "vmm/clock.h"
#include "vmm/dirty.h"
#include "vmm/memory.h"
#include "minivmm/persist/migration_conv.h"
#include "minivmm/persist/migration_fmt.h"
#include "minivmm/persist/migration_net.h"

#define PG SNAP_PAGE_SIZE
#define WIN MIG_WINDOW_PAGES
#define FIXED_MAX (SNAP_SECTION_HEADER_SIZE + SNAP_RAM_HEADER_SIZE + WIN / 8)

/* One window being sent: which pages, staged where. */
struct window {
    uint64_t gpa;
    uint32_t npages;
    uint32_t present;
    uint64_t bits[WIN / 64];
    uint8_t fixed[FIXED_MAX];
};

int mig_tx_init(struct mig_tx *tx, int fd, const struct guest_memory *mem)
{
    memset(tx, 0, sizeof(*tx));
    tx->fd = fd;
    tx->mem = mem;
    tx->stage = mmap(NULL, WIN * PG, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (tx->stage == MAP_FAILED)
        tx->stage = NULL;
    tx->xxh = XXH3_createState();
    if (!tx->stage || !tx->xxh) {
        mig_tx_fini(tx);
        return -ENOMEM;
    }
    return 0;
}

void mig_tx_fini(struct mig_tx *tx)
{
    if (tx->stage)
        munmap(tx->stage, WIN * PG);
    XXH3_freeState(tx->xxh);
    tx->stage = NULL;
    tx->xxh = NULL;
}

static int send_section_f(struct mig_tx *tx, uint32_t type, uint32_t flags,
                          uint8_t *hdr, size_t prelen, const void *body,
                          size_t len);

static int send_section(struct mig_tx *tx, uint32_t type, uint8_t *hdr,
                        size_t prelen, const void *body, size_t len)
{
    return send_section_f(tx, type, 0, hdr, prelen, body, len);
}

int mig_tx_header(struct mig_tx *tx, unsigned int cpus)
{
    uint8_t h[SNAP_HEADER_SIZE];
    uint8_t c[SNAP_SECTION_HEADER_SIZE + MIG_CONFIG_SIZE];
    int r;

    snap_header_encode(h, MIG_F_STREAM, tx->mem->ram_size);
    r = mig_send(tx->fd, h, sizeof(h));
    if (r < 0)
        return r;
    tx->bytes += sizeof(h);
    mig_config_encode(c + SNAP_SECTION_HEADER_SIZE, cpus);
    return send_section(tx, MIG_SEC_CONFIG, c, MIG_CONFIG_SIZE, NULL, 0);
}

/* Section header + @pre (@prelen bytes, already in place after the
 * header) + @body, checksummed over pre and body. */
static int send_section_f(struct mig_tx *tx, uint32_t type, uint32_t flags,
                          uint8_t *hdr, size_t prelen, const void *body,
                          size_t len)
{
    struct snap_section s = { .type = type, .flags = flags,
                              .index = tx->index, .length = prelen + len };
    XXH3_state_t *st = tx->xxh;
    struct iovec iov[2] = {
        { hdr, SNAP_SECTION_HEADER_SIZE + prelen }, { (void *)body, len },
    };
    int r;

    XXH3_64bits_reset_withSeed(st, tx->index);
    XXH3_64bits_update(st, hdr + SNAP_SECTION_HEADER_SIZE, prelen);
    if (len)
        XXH3_64bits_update(st, body, len);
    s.check = XXH3_64bits_digest(st);
    snap_section_encode(hdr, &s);
    r = mig_sendv(tx->fd, iov, len ? 2 : 1);
    if (r < 0)
        return r;
    tx->index++;
    tx->bytes += SNAP_SECTION_HEADER_SIZE + prelen + len;
    return 0;
}

static bool page_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;

    if (q[0] | q[PG / 8 - 1])
        return false;
    for (unsigned int i = 0; i < PG / 8; i += 8)
        if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] |
            q[i + 6] | q[i + 7])
            return false;
    return true;
}

void mig_tx_set_cap(struct mig_tx *tx, uint64_t bytes_per_s)
{
    tx->cap = bytes_per_s;
    tx->cap_t0 = clock_now_us();
    tx->cap_bytes0 = tx->bytes;
}

/* Under a bandwidth cap: sleep until what was sent fits it. */
static void pace(struct mig_tx *tx)
{
    uint64_t us = mig_conv_pace_us(tx->bytes - tx->cap_bytes0,
                                   clock_now_us() - tx->cap_t0, tx->cap);
    struct timespec ts = { (time_t)(us / 1000000),
                           (long)(us % 1000000) * 1000 };

    if (us)
        nanosleep(&ts, NULL);
}

/* Stage the pages of @w->bits from @hva (dropping zero pages if
 * @elide_zero) and send the window as a @type section. */
static int send_window(struct mig_tx *tx, struct window *w,
                       const uint8_t *hva, uint32_t type, bool elide_zero)
{
    uint8_t *dst = tx->stage;
    size_t fixed;

    w->present = 0;
    for (uint32_t i = 0; i < w->npages; i++) {
        const uint8_t *src = hva + (uint64_t)i * PG;

        if (!(w->bits[i / 64] >> (i % 64) & 1))
            continue;
        if (elide_zero && page_zero(src)) {
            w->bits[i / 64] &= ~(1ULL << (i % 64));
            tx->zero_pages++;
            continue;
        }
        memcpy(dst, src, PG);
        dst += PG;
        w->present++;
    }
    if (!w->present)
        return 0;
    fixed = SNAP_RAM_HEADER_SIZE + snap_ram_bitmap_bytes(w->npages);
    snap_ram_encode(w->fixed + SNAP_SECTION_HEADER_SIZE, w->gpa, w->npages,
                    w->bits);
    tx->pages += w->present;
    pace(tx);
    return send_section(tx, type, w->fixed, fixed, tx->stage,
                        (size_t)w->present * PG);
}

/* The memfd's data extents of [@off, @off + @n pages) as bits of @w (holes
 * read as zero without being touched). */
static void data_bits(int fd, uint64_t off, uint32_t n, struct window *w)
{
    uint64_t end = off + (uint64_t)n * PG, pos = off;

    memset(w->bits, 0, sizeof(w->bits));
    while (pos < end) {
        off_t data = lseek(fd, (off_t)pos, SEEK_DATA), hole;

        if (data < 0 && errno != ENXIO) {
            dirty_bits_set_range(w->bits, (pos - off) / PG,
                                 (end - pos + PG - 1) / PG);
            return;
        }
        if (data < 0 || (uint64_t)data >= end)
            return;
        hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0 || (uint64_t)hole > end)
            hole = (off_t)end;
        dirty_bits_set_range(w->bits, ((uint64_t)data - off) / PG,
                             ((uint64_t)hole - (uint64_t)data + PG - 1) /
                             PG);
        pos = (uint64_t)hole;
    }
}

int mig_tx_ram_all(struct mig_tx *tx)
{
    struct window *w = malloc(sizeof(*w));
    int r = w ? 0 : -ENOMEM;

    for (unsigned int i = 0; r == 0 && i < tx->mem->nregions; i++) {
        const struct guest_region *g = &tx->mem->regions[i];

        for (uint64_t p = 0; r == 0 && p < g->size / PG; p += WIN) {
            uint64_t left = g->size / PG - p;

            w->gpa = g->gpa + p * PG;
            w->npages = (uint32_t)(left < WIN ? left : WIN);
            data_bits(g->fd, g->fd_offset + p * PG, w->npages, w);
            r = send_window(tx, w, g->hva + p * PG, SNAP_SEC_RAM, true);
        }
    }
    free(w);
    return r;
}

int mig_tx_ram_dirty(struct mig_tx *tx, const uint64_t *bits,
                     uint64_t *sent)
{
    struct window *w = malloc(sizeof(*w));
    uint64_t before = tx->pages;
    int r = w ? 0 : -ENOMEM;

    for (unsigned int i = 0; r == 0 && i < tx->mem->nregions; i++) {
        const struct guest_region *g = &tx->mem->regions[i];
        uint64_t base = g->fd_offset / PG;

        for (uint64_t p = 0; r == 0 && p < g->size / PG; p += WIN) {
            uint64_t left = g->size / PG - p;

            w->npages = (uint32_t)(left < WIN ? left : WIN);
            if (!dirty_bits_extract(bits, base + p, w->npages, w->bits))
                continue;
            w->gpa = g->gpa + p * PG;
            r = send_window(tx, w, g->hva + p * PG, MIG_SEC_RAM_DIRTY,
                            false);
        }
    }
    free(w);
    *sent = tx->pages - before;
    return r;
}

int mig_tx_device(struct mig_tx *tx, const char *id, const void *data,
                  size_t len)
{
    uint8_t hdr[SNAP_SECTION_HEADER_SIZE + MIG_DEVICE_ID_SIZE];

    mig_device_id_encode(hdr + SNAP_SECTION_HEADER_SIZE, id);
    return send_section(tx, MIG_SEC_DEVICE, hdr, MIG_DEVICE_ID_SIZE, data,
                        len);
}

int mig_tx_stopping(struct mig_tx *tx)
{
    uint8_t hdr[SNAP_SECTION_HEADER_SIZE + SNAP_RAM_HEADER_SIZE + 8];
    uint64_t none = 0;

    snap_ram_encode(hdr + SNAP_SECTION_HEADER_SIZE, 0, 1, &none);
    return send_section_f(tx, MIG_SEC_RAM_DIRTY, MIG_SEC_F_STOPPING, hdr,
                          SNAP_RAM_HEADER_SIZE + 8, NULL, 0);
}

int mig_tx_state_end(struct mig_tx *tx, const void *fdt, size_t len)
{
    uint8_t hdr[SNAP_SECTION_HEADER_SIZE + SNAP_END_SIZE];
    struct snap_end e;
    int r = send_section(tx, SNAP_SEC_STATE, hdr, 0, fdt, len);

    if (r < 0)
        return r;
    e.nsections = tx->index;
    e.ram_pages = tx->pages;
    snap_end_encode(hdr + SNAP_SECTION_HEADER_SIZE, &e);
    return send_section(tx, SNAP_SEC_END, hdr, SNAP_END_SIZE, NULL, 0);
}
