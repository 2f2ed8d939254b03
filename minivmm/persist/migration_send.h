/* SPDX-License-Identifier: BSD-3-Clause */
/* The sending side of the migration stream (migration_fmt.h): guest RAM
 * in windows of MIG_WINDOW_PAGES pages, each a RAM or RAM_DIRTY section
 * whose pages are first copied into a staging buffer (the guest may write
 * them meanwhile: the checksum must cover exactly the bytes sent; a page
 * written after its copy is dirty again and goes in a later pass). Called
 * from the migration thread only. All functions return 0 or -errno. */
#ifndef MINIVMM_MIGRATION_SEND_H
#define MINIVMM_MIGRATION_SEND_H

#include <stddef.h>
#include <stdint.h>

struct guest_memory;

#define MIG_WINDOW_PAGES 1024u      /* 4 MiB of guest RAM per section */

struct mig_tx {
    int fd;
    const struct guest_memory *mem;
    uint32_t index;         /* next section index */
    uint64_t pages;         /* present pages sent so far */
    uint64_t bytes;         /* stream bytes sent so far */
    uint64_t zero_pages;    /* first pass: pages elided */
    uint8_t *stage;         /* MIG_WINDOW_PAGES pages */
    void *xxh;              /* XXH3_state_t */
    uint64_t cap;           /* bytes/s, 0: uncapped (mig_tx_set_cap) */
    uint64_t cap_t0;        /* µs, clock_now_us() when the cap was set */
    uint64_t cap_bytes0;    /* tx->bytes then */
};

int mig_tx_init(struct mig_tx *tx, int fd, const struct guest_memory *mem);
void mig_tx_fini(struct mig_tx *tx);

/* Cap the stream at @bytes_per_s from now on (0: uncapped): each RAM
 * window waits until the bytes sent since fit the cap
 * (migration_conv.h mig_conv_pace_us). */
void mig_tx_set_cap(struct mig_tx *tx, uint64_t bytes_per_s);

/* The stream header (flag MIG_F_STREAM, RAM size) and CONFIG. */
int mig_tx_header(struct mig_tx *tx, unsigned int cpus);
/* First pass: every non-zero page of RAM as RAM sections. */
int mig_tx_ram_all(struct mig_tx *tx);
/* A dirty pass: the pages set in @bits (memfd page numbers, vmm/dirty.h),
 * as RAM_DIRTY sections; *@sent = pages sent. */
int mig_tx_ram_dirty(struct mig_tx *tx, const uint64_t *bits,
                     uint64_t *sent);
/* One DEVICE section (@id, @len bytes of data). */
int mig_tx_device(struct mig_tx *tx, const char *id, const void *data,
                  size_t len);
/* The STATE section, then END. */
/* The stop is coming: an empty RAM_DIRTY section (one page, none
 * present) flagged MIG_SEC_F_STOPPING, so the destination can prepare
 * for the final pass (its real-time boost, docs/migration.md); older
 * destinations ignore the flag and take it as an empty pass. 0 or
 * -errno. */
int mig_tx_stopping(struct mig_tx *tx);
int mig_tx_state_end(struct mig_tx *tx, const void *fdt, size_t len);

#endif
