/* SPDX-License-Identifier: BSD-3-Clause */
/* Test fakes for the VT-d unit (tests/unit/test_vtd_*.c): guest memory
 * (a malloc'd buffer at gpa 0) behind vtd_mem_ops with an MSI log, table
 * builders (root, context, second-level entries) and an endpoint backend
 * that logs map/unmap calls, counts what it holds and can fail. */
#ifndef MINIVMM_TESTS_UNIT_VTD_FAKE_H
#define MINIVMM_TESTS_UNIT_VTD_FAKE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vtd_types.h"

#define FAKE_RAM   (32ull << 20)    /* guest RAM [0, 32 MiB) */
#define FAKE_TABLES 0x1000000ull    /* tables allocated from 16 MiB up */
#define FAKE_MAXLOG 512u

struct fake {
    uint8_t *ram;
    uint64_t next;                  /* next free table page */
    unsigned int nmsi;
    uint64_t msi_addr[64];
    uint32_t msi_data[64];
    unsigned long reads;
};

static inline int fake_read(void *o, uint64_t gpa, void *buf, size_t len)
{
    struct fake *f = o;

    f->reads++;
    if (gpa >= FAKE_RAM || len > FAKE_RAM - gpa)
        return -EFAULT;
    memcpy(buf, f->ram + gpa, len);
    return 0;
}

static inline int fake_write(void *o, uint64_t gpa, const void *buf,
                             size_t len)
{
    struct fake *f = o;

    if (gpa >= FAKE_RAM || len > FAKE_RAM - gpa)
        return -EFAULT;
    memcpy(f->ram + gpa, buf, len);
    return 0;
}

static inline void fake_msi(void *o, uint64_t addr, uint32_t data)
{
    struct fake *f = o;

    if (f->nmsi < 64) {
        f->msi_addr[f->nmsi] = addr;
        f->msi_data[f->nmsi] = data;
    }
    f->nmsi++;
}

static inline const struct vtd_mem_ops *fake_mem_ops(void)
{
    static const struct vtd_mem_ops ops = { fake_read, fake_write,
                                            fake_msi };

    return &ops;
}

static inline void fake_init(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    f->ram = calloc(1, FAKE_RAM);
    f->next = FAKE_TABLES;
}

static inline void fake_fini(struct fake *f)
{
    free(f->ram);
}

static inline void w64(struct fake *f, uint64_t gpa, uint64_t v)
{
    memcpy(f->ram + gpa, &v, 8);
}

static inline uint64_t r64(struct fake *f, uint64_t gpa)
{
    uint64_t v;

    memcpy(&v, f->ram + gpa, 8);
    return v;
}

static inline uint32_t r32(struct fake *f, uint64_t gpa)
{
    uint32_t v;

    memcpy(&v, f->ram + gpa, 4);
    return v;
}

static inline uint64_t fake_table(struct fake *f)
{
    uint64_t a = f->next;

    f->next += 4096;
    memset(f->ram + a, 0, 4096);
    return a;
}

/* Root entry of @bus -> context table @ctp. */
static inline void fake_root(struct fake *f, uint64_t root, unsigned int bus,
                      uint64_t ctp)
{
    w64(f, root + bus * 16, ctp | 1);
    w64(f, root + bus * 16 + 8, 0);
}

/* Context entry of @devfn: tt (0 tables, 2 pass-through), aw (1: 39-bit,
 * 2: 48-bit), did, slpt. */
static inline void fake_ctx(struct fake *f, uint64_t ctp, unsigned int devfn,
                     unsigned int tt, unsigned int aw, uint16_t did,
                     uint64_t slpt)
{
    w64(f, ctp + devfn * 16, slpt | (uint64_t)tt << 2 | 1);
    w64(f, ctp + devfn * 16 + 8, aw | (uint64_t)did << 8);
}

/* Map @iova -> @gpa with a leaf at @leaf (1: 4K, 2: 2M, 3: 1G) in the
 * @levels-level tables at @slpt; @perm: PTE bits 1:0. Returns the leaf's
 * gpa (to corrupt it in tests). */
static inline uint64_t fake_map(struct fake *f, uint64_t slpt,
                                unsigned int levels, uint64_t iova,
                                uint64_t gpa, unsigned int leaf,
                                uint64_t perm)
{
    uint64_t table = slpt;

    for (unsigned int l = levels; l > leaf; l--) {
        uint64_t at = table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8;
        uint64_t e = r64(f, at);

        if (!(e & 3)) {
            e = fake_table(f) | 3;
            w64(f, at, e);
        }
        table = e & ~0xfffull & ((1ull << 52) - 1);
    }
    table += ((iova >> (12 + 9 * (leaf - 1))) & 511) * 8;
    w64(f, table, gpa | perm | (leaf > 1 ? 0x80 : 0));
    return table;
}

/* An endpoint backend. */
struct rec_call {
    bool map;
    uint64_t iova, last, gpa;
    uint32_t perm;
};

struct rec {
    unsigned int n;                 /* calls logged */
    struct rec_call c[FAKE_MAXLOG];
    long live;                      /* mappings held */
    long max;                       /* 0: no limit, else -ENOSPC beyond */
    int fail_at;                    /* map call number that fails, 0 none */
    unsigned int maps;
};

static inline int rec_map(void *o, uint64_t iova, uint64_t last, uint64_t gpa,
                   uint32_t perm)
{
    struct rec *r = o;

    r->maps++;
    if ((r->max && r->live >= r->max) || (r->fail_at &&
                                          (int)r->maps == r->fail_at))
        return -ENOSPC;
    if (r->n < FAKE_MAXLOG)
        r->c[r->n++] = (struct rec_call){ true, iova, last, gpa, perm };
    r->live++;
    return 0;
}

static inline void rec_unmap(void *o, uint64_t iova, uint64_t last)
{
    struct rec *r = o;

    if (r->n < FAKE_MAXLOG)
        r->c[r->n++] = (struct rec_call){ false, iova, last, 0, 0 };
    r->live--;
}

static inline const struct vtd_ep_ops *rec_ops(void)
{
    static const struct vtd_ep_ops ops = { rec_map, rec_unmap };

    return &ops;
}

#endif
