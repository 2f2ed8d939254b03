/* SPDX-License-Identifier: BSD-3-Clause */
/* For fuzz targets reading snapshot files or migration streams end to end:
 * recompute every checksum of a mutated input (the 64-byte file header's
 * XXH3 of bytes 0-55; each 32-byte section header's payload XXH3 seeded
 * with its index and its own check of bytes 0-27; docs/snapshot-format.md)
 * so that mutations reach the checks behind them instead of stopping at
 * "checksum mismatch" (that check itself is covered by fuzz_snapshot,
 * fuzz_migstream and the unit tests). Sections follow each other without
 * padding; a section whose payload runs past the end is left as it is. */
#ifndef FUZZ_SUMS_H
#define FUZZ_SUMS_H

#include <stdint.h>
#include <string.h>
#include <xxhash.h>

static inline void fuzz_fix_sums(uint8_t *b, size_t len)
{
    uint64_t h, plen;
    uint32_t idx, h32;
    size_t off = 64;

    if (len < 64)
        return;
    h = XXH3_64bits(b, 56);
    memcpy(b + 56, &h, 8);
    while (len - off >= 32) {
        uint8_t *s = b + off;

        memcpy(&plen, s + 8, 8);
        memcpy(&idx, s + 24, 4);
        if (plen <= len - off - 32) {
            h = XXH3_64bits_withSeed(s + 32, (size_t)plen, idx);
            memcpy(s + 16, &h, 8);
        }
        h32 = (uint32_t)XXH3_64bits(s, 28);
        memcpy(s + 28, &h32, 4);
        if (plen > len - off - 32)
            break;
        off += 32 + (size_t)plen;
    }
}

#endif
