/* SPDX-License-Identifier: BSD-3-Clause */
/* The live-migration stream (docs/migration.md): the snapshot encoding of
 * vmm/snapshot_fmt.h (file header, then checksummed sections with
 * consecutive indexes) sent over a socket, with two more section types and
 * a different order:
 *
 *   header      SNAP header, flag MIG_F_STREAM, guest RAM size
 *   CONFIG      vCPU count (u32), 12 zero bytes: the destination builds
 *               its VM at once, while RAM arrives
 *   RAM ...     first pass: every region in increasing gpa order, zero
 *               pages elided (the destination's RAM is fresh, all zero)
 *   RAM_DIRTY   later passes: the same payload as RAM, but an absent page
 *               is unchanged, a present one replaces the page
 *   DEVICE      opaque data of one device (vfio-user pre-copy data):
 *               48-byte NUL-padded id, then the bytes
 *   STATE       the state tree (vmctl.h), once, after all RAM
 *   END         section count and pages sent: nothing follows
 *
 * Once its VM is built from CONFIG, the destination sends MIG_BUILT
 * (the source stops the guest only after that: building is not downtime);
 * at the end it answers with a reply record (ready, or an error
 * with its reason) once the VM is built from the stream, and the source
 * either sends GO or closes the connection (the destination exits, the
 * source goes on). On GO the destination answers MIG_RUNNING and runs the
 * guest; without GO before its deadline it answers an error record and
 * never runs it. The source stops for good only on MIG_RUNNING, resumes
 * on an error record, and keeps the guest paused ("in doubt") when the
 * answer never comes (docs/migration.md, "Hand-over").
 *
 * Everything here is pure (no I/O, no allocation): the receiver in
 * migration_in.c, the fuzz target and the unit tests share it.
 */
#ifndef MINIVMM_MIGRATION_FMT_H
#define MINIVMM_MIGRATION_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/persist/snapshot_fmt.h"

#define MIG_F_STREAM (1u << 16)     /* header flag (ignorable bits) */

enum mig_section_type {
    MIG_SEC_RAM_DIRTY = 0x10,
    MIG_SEC_DEVICE = 0x11,
    MIG_SEC_CONFIG = 0x12,
};
#define MIG_CONFIG_SIZE 16
/* Section flag (ignorable: receivers that do not know it go on): on an
 * empty RAM_DIRTY section, the source is stopping the guest and the final
 * pass follows (mig_tx_stopping). */
#define MIG_SEC_F_STOPPING (1u << 8)

#define MIG_DEVICE_ID_SIZE 48
#define MIG_DEVICE_DATA_MAX (64u << 20)
#define MIG_REPLY_SIZE 256
#define MIG_REPLY_MAGIC "MVMMIGR\n"
#define MIG_GO "MVMMIGGO"           /* 8 bytes, no NUL */
#define MIG_BUILT "MVMMIGB\n"       /* destination → source after CONFIG:
                                     * its VM is built (8 bytes) */
#define MIG_GO_SIZE 8
#define MIG_RUNNING "MVMMIGRN"      /* destination → source after GO: it
                                     * runs the guest (8 bytes, no NUL) */

/* Receiver-side validation of the stream's order, counts and ranges. */
enum mig_rx_phase {
    MIG_RX_HEADER = 0,      /* waiting for the file header */
    MIG_RX_CONFIG,          /* CONFIG must come first */
    MIG_RX_RAM,             /* first-pass RAM sections allowed */
    MIG_RX_DIRTY,           /* a RAM_DIRTY or DEVICE was seen */
    MIG_RX_STATE_SEEN,      /* only END may follow */
    MIG_RX_DONE,            /* END seen: the stream is complete */
};

struct mig_rx {
    enum mig_rx_phase phase;
    uint64_t ram_size;          /* from the header */
    uint32_t next_index;        /* the next section's index */
    uint64_t ram_next;          /* first-pass RAM: lowest allowed gpa */
    uint64_t pages;             /* present pages in RAM/RAM_DIRTY */
};

/* "ram-dirty", "device", or the snapshot names. */
const char *mig_section_name(uint32_t type);

/* Reset @rx and decode the 64-byte header in @buf. 0 or -EINVAL. */
int mig_rx_header(struct mig_rx *rx, const void *buf, size_t len, char *err,
                  size_t errlen);

/* Decode the 32-byte section header in @buf and check it may come now
 * (type known, index, order, length bounds); advances the index. */
int mig_rx_section(struct mig_rx *rx, const void *buf,
                   struct snap_section *s, char *err, size_t errlen);

/* The fixed part of a RAM / RAM_DIRTY payload (header and bitmap, @len
 * bytes available). Checks it matches the section length and lies inside
 * one RAM region of the guest (vmm/memory.h layout); counts its pages. */
int mig_rx_ram(struct mig_rx *rx, const struct snap_section *s,
               const void *buf, size_t len, struct snap_ram *r, char *err,
               size_t errlen);

/* Bytes of a RAM payload's fixed part for the section of @s, read before
 * mig_rx_ram(): at least the header; the caller reads the bitmap after
 * peeking at npages with mig_ram_fixed_len(). */
size_t mig_ram_fixed_len(const void *ram_header);

/* A DEVICE payload (@len bytes): the id (validated) and the data. */
int mig_rx_device(const void *buf, size_t len, char *id,
                  const uint8_t **data, size_t *dlen, char *err,
                  size_t errlen);

/* An END payload: checks the counts; the stream is then complete. */
int mig_rx_end(struct mig_rx *rx, const struct snap_section *s,
               const void *buf, size_t len, char *err, size_t errlen);

/* CONFIG payload: encode / decode (1..255 vCPUs, reserved bytes 0). */
void mig_config_encode(void *buf, uint32_t cpus);
int mig_rx_config(const void *buf, size_t len, uint32_t *cpus, char *err,
                  size_t errlen);

/* Whether gpa range [@gpa, @gpa + @len) lies inside one RAM region of a
 * guest with @ram_size bytes of RAM. */
bool mig_ram_range_ok(uint64_t ram_size, uint64_t gpa, uint64_t len);

/* Encoders: a DEVICE payload's 48-byte id field. */
void mig_device_id_encode(void *buf, const char *id);

/* The reply record: @status 0 (ready) or a positive errno and a reason. */
void mig_reply_encode(void *buf, uint32_t status, const char *why);
/* 0 with *@status and the reason in @why, or -EINVAL (not a reply). */
int mig_reply_decode(const void *buf, uint32_t *status, char *why,
                     size_t whylen);

/* Parse a whole stream held in memory (fuzzing, tests): header, sections
 * with every checksum, END, nothing after it. @ram/@state/@device may be
 * NULL; a negative return from one stops the parse. */
struct mig_visitor {
    int (*ram)(void *opaque, uint32_t type, const struct snap_ram *r,
               const uint8_t *pages);
    int (*device)(void *opaque, const char *id, const uint8_t *data,
                  size_t len);
    int (*state)(void *opaque, const void *fdt, size_t len);
    void *opaque;
};
int mig_parse_buffer(const void *buf, size_t len, const struct mig_visitor *v,
                     char *err, size_t errlen);

#endif
