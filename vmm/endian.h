/* SPDX-License-Identifier: BSD-3-Clause */
/* The one little-endian helper: loads and stores of 1, 2, 4 or 8 bytes at
 * any alignment, as PCI configuration space, virtio and vfio-user registers
 * are little-endian (PCI Local Bus 3.0 §6.1; virtio 1.2 §1.4). */
#ifndef MINIVMM_VMM_ENDIAN_H
#define MINIVMM_VMM_ENDIAN_H

#include <stdint.h>

/* The LEN (1..8) bytes at P as a little-endian number. */
static inline uint64_t le_load(const void *p, unsigned len)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (unsigned i = 0; i < len && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* Stores the low LEN (1..8) bytes of V at P, little-endian. */
static inline void le_store(void *p, unsigned len, uint64_t v)
{
    uint8_t *b = p;
    for (unsigned i = 0; i < len && i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t le16_load(const void *p) { return (uint16_t)le_load(p, 2); }
static inline uint32_t le32_load(const void *p) { return (uint32_t)le_load(p, 4); }
static inline uint64_t le64_load(const void *p) { return le_load(p, 8); }
static inline void le16_store(void *p, uint16_t v) { le_store(p, 2, v); }
static inline void le32_store(void *p, uint32_t v) { le_store(p, 4, v); }
static inline void le64_store(void *p, uint64_t v) { le_store(p, 8, v); }

#endif
