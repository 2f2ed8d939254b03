/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d unit in a state node (snapshots, migration; vtd.h). Node:
 *   aw-bits, regs, frcd  the register file (vtd_regs.c)
 *   endpoints            per endpoint: bdf (le32), domain id at its last
 *                        walk (le32, -1 none)
 *   mappings             per run: bdf, perm (le32), iova, last, gpa
 *                        (le64); each endpoint's runs ascending, disjoint
 * Load validates everything before it changes anything, then replays each
 * endpoint's runs through its ops (the difference against what it holds:
 * on a fresh destination, the identity map). */
#include "devices/vtd.h"
#include "devices/vtd_int.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/endian.h"
#include "vmm/log.h"
#include "vmm/state.h"

#define EP_REC  8u
#define RUN_REC 32u

static int save_maps(const struct vtd *u, void *fdt, int node)
{
    size_t n = 0, k = 0;
    uint8_t *b;
    int r;

    for (unsigned int i = 0; i < u->nep; i++)
        n += u->ep[i].sh.n;
    b = malloc(n ? n * RUN_REC : 1);
    if (!b)
        return -ENOMEM;
    for (unsigned int i = 0; i < u->nep; i++)
        for (size_t j = 0; j < u->ep[i].sh.n; j++, k++) {
            const struct vtd_run *m = &u->ep[i].sh.r[j];
            uint8_t *p = b + k * RUN_REC;

            le32_store(p, u->ep[i].bdf);
            le32_store(p + 4, m->perm);
            le64_store(p + 8, m->iova);
            le64_store(p + 16, m->last);
            le64_store(p + 24, m->gpa);
        }
    r = state_put_bytes(fdt, node, "mappings", b, n * RUN_REC);
    free(b);
    return r;
}

static int vtd_save(void *opaque, void *fdt, int node)
{
    struct vtd *u = opaque;
    uint8_t eps[VTD_MAX_ENDPOINTS * EP_REC];
    int r;

    pthread_mutex_lock(&u->lock);
    r = vtd_regs_save(&u->regs, fdt, node);
    for (unsigned int i = 0; i < u->nep; i++) {
        le32_store(eps + EP_REC * i, u->ep[i].bdf);
        le32_store(eps + EP_REC * i + 4, (uint32_t)u->ep[i].did);
    }
    if (r == 0)
        r = state_put_bytes(fdt, node, "endpoints", eps, EP_REC * u->nep);
    if (r == 0)
        r = save_maps(u, fdt, node);
    pthread_mutex_unlock(&u->lock);
    return r;
}

/* The file's endpoints must be ours: same count, each once. */
static int load_eps(const struct vtd *u, const void *fdt, int node,
                    int32_t *did)
{
    uint8_t eps[VTD_MAX_ENDPOINTS * EP_REC];
    uint32_t seen = 0;

    if (state_get_bytes(fdt, node, "endpoints", eps, EP_REC * u->nep))
        return -EINVAL;
    for (unsigned int i = 0; i < u->nep; i++) {
        uint32_t bdf = le32_load(eps + EP_REC * i);
        int32_t d = (int32_t)le32_load(eps + EP_REC * i + 4);
        int e = bdf > 0xffff ? -1 : vtd_find_ep(u, (uint16_t)bdf);

        if (e < 0 || (seen & (1u << e)) || d < -1 || d > 0xffff)
            return -EINVAL;
        seen |= 1u << e;
        did[e] = d;
    }
    return 0;
}

static bool run_ok(const struct vtd_run *m, const struct vtd_runs *rs)
{
    const struct vtd_run *l = rs->n ? &rs->r[rs->n - 1] : NULL;

    return m->iova <= m->last && !(m->iova & 0xfff) &&
           (m->last & 0xfff) == 0xfff && !(m->gpa & 0xfff) &&
           m->gpa + (m->last - m->iova) >= m->gpa && m->perm &&
           !(m->perm & ~(VTD_PERM_R | VTD_PERM_W)) &&
           (!l || m->iova > l->last);
}

/* Parse "mappings" into one run list per endpoint (validated). */
static int load_maps(const struct vtd *u, const void *fdt, int node,
                     struct vtd_runs *rs)
{
    const uint8_t *b;
    int len = 0;

    b = fdt_getprop(fdt, node, "mappings", &len);
    if (!b || len % RUN_REC)
        return -EINVAL;
    for (int k = 0; k < len / (int)RUN_REC; k++) {
        const uint8_t *p = b + (size_t)k * RUN_REC;
        uint32_t bdf = le32_load(p);
        int e = bdf > 0xffff ? -1 : vtd_find_ep(u, (uint16_t)bdf);
        struct vtd_run m = {
            .perm = le32_load(p + 4), .iova = le64_load(p + 8),
            .last = le64_load(p + 16), .gpa = le64_load(p + 24),
        };

        if (e < 0 || !run_ok(&m, &rs[e]) || vtd_runs_add(&rs[e], &m))
            return -EINVAL;
    }
    return 0;
}

static int load_state(struct vtd *u, const void *fdt, int node,
                      struct vtd_runs *rs)
{
    struct vtd_regs nr = u->regs;
    int32_t did[VTD_MAX_ENDPOINTS];
    int r;

    if (vtd_regs_load(&nr, fdt, node) || load_eps(u, fdt, node, did) ||
        load_maps(u, fdt, node, rs))
        return -EINVAL;
    u->regs = nr;
    for (unsigned int i = 0; i < u->nep; i++) {
        struct vtd_sink k;

        vtd_ep_sink(u, &u->ep[i], &k);
        u->ep[i].did = did[i];
        r = vtd_shadow_apply(&u->ep[i].sh, 0, UINT64_MAX, rs[i].r, rs[i].n,
                             &k);
        if (r) {
            log_err("vtd: %s: cannot replay %zu DMA mappings: %s",
                    u->ep[i].host.name, rs[i].n, strerror(-r));
            return r;
        }
    }
    return 0;
}

static int vtd_load(void *opaque, const void *fdt, int node)
{
    struct vtd *u = opaque;
    struct vtd_runs rs[VTD_MAX_ENDPOINTS];
    int r;

    for (unsigned int i = 0; i < VTD_MAX_ENDPOINTS; i++)
        rs[i] = (struct vtd_runs){ .max = VTD_MAX_RUNS };
    pthread_mutex_lock(&u->lock);
    r = load_state(u, fdt, node, rs);
    if (r && r != -EINVAL) { /* half replayed: back to a reset unit */
        vtd_regs_reset(&u->regs, u->aw_bits);
        vtd_sync_all(u);
    }
    pthread_mutex_unlock(&u->lock);
    for (unsigned int i = 0; i < VTD_MAX_ENDPOINTS; i++)
        free(rs[i].r);
    return r;
}

const struct state_ops vtd_state_ops = {
    .save = vtd_save,
    .load = vtd_load,
};
