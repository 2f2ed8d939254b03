/* SPDX-License-Identifier: BSD-3-Clause */
/* VT-d legacy-mode table walker (see vtd_walk.h; VT-d spec 9.1-9.3,
 * 9.8 and 3.6; reserved-bit masks as in the spec's entry formats). */
#include "devices/vtd_walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PTE_PERM      3ull              /* R (bit 0), W (bit 1) */
#define PTE_PS        (1ull << 7)       /* large page (levels 2, 3) */
#define PTE_SNP       (1ull << 11)      /* reserved: ECAP.SC = 0 */
#define PTE_IGN       0xbff0000000000000ull /* bits 63, 61:52 ignored */
#define ENTRIES       512u

/* Address bits below the host address width, page aligned. */
static uint64_t haw_mask(const struct vtd_walker *w)
{
    return ((1ull << w->haw) - 1) & ~0xfffull;
}

/* Bits of an entry that must be 0: above HAW, not ignored, bit 11;
 * bit 7 at level 4; the address bits inside a large page. */
static uint64_t pte_rsvd(const struct vtd_walker *w, unsigned int level,
                         uint64_t pte)
{
    uint64_t m = PTE_SNP | ~(haw_mask(w) | PTE_IGN | 0xfffull);

    if (level == 4)
        m |= PTE_PS;
    else if (level == 3 && (pte & PTE_PS))
        m |= 0x3ffff000ull;
    else if (level == 2 && (pte & PTE_PS))
        m |= 0x1ff000ull;
    return m;
}

static bool pte_leaf(unsigned int level, uint64_t pte)
{
    return level == 1 || ((level == 2 || level == 3) && (pte & PTE_PS));
}

static unsigned int level_shift(unsigned int level)
{
    return 12 + 9 * (level - 1);
}

static int read_ctx(const struct vtd_walker *w, uint64_t ctp, uint16_t sid,
                    struct vtd_ctx *c)
{
    uint64_t ce[2];
    unsigned int aw, tt;

    if (w->mem->read(w->opaque, ctp + (sid & 0xffu) * 16ull, ce,
                     sizeof(ce)))
        return VTD_FR_CTX_ADDR;
    if (!(ce[0] & 1))
        return VTD_FR_CTX_NP;
    c->fpd = ce[0] & 2;
    c->did = (uint16_t)(ce[1] >> 8);
    if ((ce[0] & (0xff0ull | ~(haw_mask(w) | 0xfffull))) ||
        (ce[1] & ~0xffff7full))
        return VTD_FR_CTX_RSVD;
    tt = (ce[0] >> 2) & 3;
    aw = ce[1] & 7;
    c->tt = (uint8_t)tt;
    c->slptptr = ce[0] & haw_mask(w);
    if (tt == VTD_TT_PT) {
        c->levels = 0;
        c->last = UINT64_MAX;
        return 0;
    }
    if (tt != VTD_TT_SL || (aw != 1 && aw != 2) || !(w->sagaw & (1u << aw)))
        return VTD_FR_CTX_INV;
    c->levels = aw + 2;
    c->last = (1ull << (30 + 9 * aw)) - 1;
    return 0;
}

int vtd_walk_ctx(const struct vtd_walker *w, uint64_t root, uint16_t sid,
                 struct vtd_ctx *c)
{
    uint64_t re[2];

    memset(c, 0, sizeof(*c));
    if (w->mem->read(w->opaque, (root & haw_mask(w)) + (sid >> 8) * 16ull,
                     re, sizeof(re)))
        return VTD_FR_ROOT_ADDR;
    if (!(re[0] & 1))
        return VTD_FR_ROOT_NP;
    if ((re[0] & (0xffeull | ~(haw_mask(w) | 0xfffull))) || re[1])
        return VTD_FR_ROOT_RSVD;
    return read_ctx(w, re[0] & haw_mask(w), sid, c);
}

static int perm_fault(uint32_t perm, uint32_t have)
{
    if ((perm & VTD_PERM_W) && !(have & VTD_PERM_W))
        return VTD_FR_WRITE;
    return VTD_FR_READ;
}

int vtd_walk_iova(const struct vtd_walker *w, const struct vtd_ctx *c,
                  uint64_t iova, uint32_t perm, uint64_t *gpa, uint32_t *eff,
                  uint64_t *psize)
{
    uint64_t table = c->slptptr, pte;
    uint32_t acc = VTD_PERM_R | VTD_PERM_W;

    if (c->levels < 3 || c->levels > 4)
        return VTD_FR_CTX_INV;
    if (iova > c->last)
        return VTD_FR_ADDR_BEYOND;
    for (unsigned int level = c->levels; level >= 1; level--) {
        unsigned int sh = level_shift(level);
        uint64_t idx = (iova >> sh) & (ENTRIES - 1);

        if (w->mem->read(w->opaque, table + idx * 8, &pte, sizeof(pte)))
            return VTD_FR_PTE_ADDR;
        if (!(pte & PTE_PERM))
            return perm_fault(perm, 0);
        if (pte & pte_rsvd(w, level, pte))
            return VTD_FR_PTE_RSVD;
        acc &= (uint32_t)(pte & PTE_PERM);
        if (pte_leaf(level, pte)) {
            uint64_t size = 1ull << sh;

            if (perm & ~acc)
                return perm_fault(perm, acc);
            *gpa = ((pte & haw_mask(w)) & ~(size - 1)) | (iova & (size - 1));
            *eff = acc;
            *psize = size;
            return 0;
        }
        table = pte & haw_mask(w);
    }
    return VTD_FR_PTE_RSVD; /* not reached: level 1 entries are leaves */
}

int vtd_runs_add(struct vtd_runs *rs, const struct vtd_run *m)
{
    struct vtd_run *l = rs->n ? &rs->r[rs->n - 1] : NULL;

    if (l && l->last + 1 == m->iova && l->perm == m->perm &&
        l->gpa + (l->last - l->iova) + 1 == m->gpa) {
        l->last = m->last;
        return 0;
    }
    return vtd_runs_append(rs, m);
}

int vtd_runs_append(struct vtd_runs *rs, const struct vtd_run *m)
{
    if (rs->n >= rs->max)
        return -ENOSPC;
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 16;
        struct vtd_run *p = realloc(rs->r, nc * sizeof(*p));

        if (!p)
            return -ENOMEM;
        rs->r = p;
        rs->cap = nc;
    }
    rs->r[rs->n++] = *m;
    return 0;
}

struct walk_st {
    const struct vtd_walker *w;
    struct vtd_runs *out;
    uint64_t s, e;
    unsigned int tables;
};

static int walk_table(struct walk_st *st, uint64_t table, unsigned int level,
                      uint64_t base, uint32_t acc);

/* Entry @pte of level @level mapping [eb, eb + 2^shift): a run or a
 * lower table. */
static int walk_entry(struct walk_st *st, uint64_t pte, unsigned int level,
                      uint64_t eb, uint32_t acc)
{
    const struct vtd_walker *w = st->w;
    uint64_t size = 1ull << level_shift(level);
    struct vtd_run m;

    if (!(pte & PTE_PERM) || (pte & pte_rsvd(w, level, pte)))
        return 0; /* a DMA there faults */
    acc &= (uint32_t)(pte & PTE_PERM);
    if (!acc)
        return 0;
    if (!pte_leaf(level, pte))
        return walk_table(st, pte & haw_mask(w), level - 1, eb, acc);
    m.iova = eb > st->s ? eb : st->s;
    m.last = eb + (size - 1) < st->e ? eb + (size - 1) : st->e;
    m.gpa = (pte & haw_mask(w) & ~(size - 1)) + (m.iova - eb);
    m.perm = acc;
    return vtd_runs_add(st->out, &m);
}

static int walk_table(struct walk_st *st, uint64_t table, unsigned int level,
                      uint64_t base, uint32_t acc)
{
    unsigned int sh = level_shift(level);
    uint64_t last = base + ((1ull << (sh + 9)) - 1);
    uint64_t lo = st->s > base ? st->s : base;
    uint64_t hi = st->e < last ? st->e : last;
    uint64_t i0 = (lo - base) >> sh, i1 = (hi - base) >> sh;
    uint64_t ent[ENTRIES];
    int r;

    if (++st->tables > VTD_WALK_MAX_TABLES)
        return -E2BIG;
    if (st->w->mem->read(st->w->opaque, table + i0 * 8, ent,
                         (size_t)(i1 - i0 + 1) * 8))
        return 0; /* not RAM: every DMA below faults */
    for (uint64_t i = i0; i <= i1; i++) {
        if (!(ent[i - i0] & PTE_PERM))
            continue;
        r = walk_entry(st, ent[i - i0], level, base + (i << sh), acc);
        if (r)
            return r;
    }
    return 0;
}

int vtd_walk_range(const struct vtd_walker *w, const struct vtd_ctx *c,
                   uint64_t s, uint64_t e, struct vtd_runs *out)
{
    struct walk_st st = { .w = w, .out = out, .s = s & ~0xfffull };

    if (s > e || s > c->last || c->levels < 3 || c->levels > 4)
        return 0;
    st.e = (e < c->last ? e : c->last) | 0xfff;
    return walk_table(&st, c->slptptr, c->levels, 0,
                      VTD_PERM_R | VTD_PERM_W);
}
