/* SPDX-License-Identifier: BSD-3-Clause */
/* Intel VT-d remapping unit (see vtd.h): endpoints, their views, the
 * invalidations that re-walk them, translation and fault reporting. The
 * register file is vtd_regs.c, the queue vtd_iq.c, the tables
 * vtd_walk.c, the unmap/map diff vtd_shadow.c; state in vtd_state.c. */
#include "devices/vtd.h"

#include "devices/vtd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"

int vtd_create(const struct vtd_params *p, struct vtd **out)
{
    struct vtd *u;

    if (!p || !out || !p->mem || !p->mem->read || !p->mem->write ||
        !p->mem->msi || (p->aw_bits != 39 && p->aw_bits != 48))
        return -EINVAL;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    if (pthread_mutex_init(&u->lock, NULL)) {
        free(u);
        return -ENOMEM;
    }
    u->aw_bits = p->aw_bits;
    u->mem = p->mem;
    u->mo = p->mem_opaque;
    vtd_regs_reset(&u->regs, p->aw_bits);
    *out = u;
    return 0;
}

void vtd_destroy(struct vtd *u)
{
    if (!u)
        return;
    for (unsigned int i = 0; i < u->nep; i++)
        vtd_shadow_fini(&u->ep[i].sh);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

int vtd_add_ram(struct vtd *u, uint64_t gpa, uint64_t size)
{
    int r = 0;

    if (!size || gpa + size - 1 < gpa || (gpa & 0xfff) || (size & 0xfff))
        return -EINVAL;
    pthread_mutex_lock(&u->lock);
    if (u->nep)
        r = -EBUSY; /* endpoints hold the identity map already */
    else if (u->nram >= VTD_MAX_RAM)
        r = -ENOSPC;
    else if (u->nram && gpa <= u->ram[u->nram - 1].last)
        r = -EINVAL; /* ascending and disjoint */
    else
        u->ram[u->nram++] = (struct vtd_run){
            .iova = gpa, .last = gpa + size - 1, .gpa = gpa,
            .perm = VTD_PERM_R | VTD_PERM_W };
    pthread_mutex_unlock(&u->lock);
    return r;
}

int vtd_find_ep(const struct vtd *u, uint16_t bdf)
{
    for (unsigned int i = 0; i < u->nep; i++)
        if (u->ep[i].bdf == bdf)
            return (int)i;
    return -1;
}

int vtd_add_ep(struct vtd *u, uint16_t bdf, const struct host_iommu_dev *host,
               const struct vtd_ep_ops *ops, void *opaque)
{
    struct vtd_ep *ep;
    int r;

    if (!host)
        return -EINVAL;
    pthread_mutex_lock(&u->lock);
    if (vtd_find_ep(u, bdf) >= 0) {
        r = -EEXIST;
    } else if (u->nep >= VTD_MAX_ENDPOINTS) {
        r = -ENOSPC;
    } else {
        ep = &u->ep[u->nep];
        memset(ep, 0, sizeof(*ep));
        ep->bdf = bdf;
        ep->host = *host;
        ep->ops = ops;
        ep->opaque = opaque;
        ep->did = -1;
        r = vtd_shadow_set(&ep->sh, u->ram, u->nram);
        if (r == 0) {
            r = (int)u->nep++;
            if (u->regs.gsts & VTD_GCMD_TE) /* hotplug: its tables now */
                vtd_ep_sync(u, ep, 0, UINT64_MAX);
        }
    }
    pthread_mutex_unlock(&u->lock);
    return r;
}

static void ep_name(const struct vtd_ep *ep, char *buf, size_t len)
{
    snprintf(buf, len, "%s (%02x:%02x.%x)", ep->host.name, ep->bdf >> 8,
             (ep->bdf >> 3) & 0x1f, ep->bdf & 7);
}

static void identity(const struct vtd *u, uint64_t s, uint64_t e,
                     struct vtd_runs *out)
{
    for (unsigned int i = 0; i < u->nram; i++) {
        struct vtd_run m = u->ram[i];

        if (m.last < s || m.iova > e)
            continue;
        if (m.iova < s)
            m.gpa = m.iova = s;
        if (m.last > e)
            m.last = e;
        (void)vtd_runs_append(out, &m); /* nram < max */
    }
}

void vtd_walker_of(const struct vtd *u, struct vtd_walker *w)
{
    w->mem = u->mem;
    w->opaque = u->mo;
    w->haw = u->aw_bits;
    w->sagaw = (uint32_t)(u->regs.cap >> VTD_CAP_SAGAW_SH) & 0x1f;
}

/* Keep only the guest-RAM part of each run in @rs: a large page may run
 * past the end of RAM (a 1 GiB page at GPA 0 of a 256 MiB guest); the
 * backend is told the RAM part, and a DMA beyond it faults. 0 or the
 * -errno of vtd_runs_append(). */
static int clip_to_ram(const struct vtd *u, struct vtd_runs *rs)
{
    struct vtd_runs out = { .max = rs->max };
    int r = 0;

    for (size_t k = 0; r == 0 && k < rs->n; k++) {
        const struct vtd_run *m = &rs->r[k];
        uint64_t glast = m->gpa + (m->last - m->iova);

        for (unsigned int i = 0; r == 0 && i < u->nram; i++) {
            uint64_t lo = m->gpa > u->ram[i].iova ? m->gpa : u->ram[i].iova;
            uint64_t hi = glast < u->ram[i].last ? glast : u->ram[i].last;

            if (lo > hi)
                continue;
            r = vtd_runs_append(&out, &(struct vtd_run){
                .iova = m->iova + (lo - m->gpa),
                .last = m->iova + (hi - m->gpa), .gpa = lo,
                .perm = m->perm });
        }
    }
    free(rs->r);
    *rs = out;
    return r;
}

/* What endpoint @ep should see in [s, e] now (runs appended to @out). */
static int ep_view(struct vtd *u, struct vtd_ep *ep, uint64_t s, uint64_t e,
                   struct vtd_runs *out)
{
    struct vtd_walker w;
    struct vtd_ctx c;
    int fr;

    if (!(u->regs.gsts & VTD_GCMD_TE)) {
        identity(u, s, e, out);
        return 0;
    }
    ep->did = -1;
    if (!(u->regs.gsts & VTD_GCMD_SRTP))
        return 0; /* no root table: nothing translates */
    vtd_walker_of(u, &w);
    fr = vtd_walk_ctx(&w, u->regs.root, ep->bdf, &c);
    if (fr == 0 || fr == VTD_FR_CTX_INV || fr == VTD_FR_CTX_RSVD)
        ep->did = c.did;
    if (fr)
        return 0;
    if (c.tt == VTD_TT_PT) {
        identity(u, s, e, out);
        return 0;
    }
    fr = vtd_walk_range(&w, &c, s, e, out);
    return fr ? fr : clip_to_ram(u, out);
}

void vtd_ep_sink(struct vtd *u, struct vtd_ep *ep, struct vtd_sink *k)
{
    k->ops = ep->ops;
    k->opaque = ep->opaque;
    k->max = ep->host.caps.max_mappings;
    k->maps = &u->st.maps;
    k->unmaps = &u->st.unmaps;
}

int vtd_ep_sync(struct vtd *u, struct vtd_ep *ep, uint64_t s, uint64_t e)
{
    struct vtd_runs runs = { .max = VTD_MAX_RUNS };
    struct vtd_sink k;
    char name[HOST_IOMMU_NAME_MAX + 16];
    int r;

    vtd_ep_sink(u, ep, &k);
    r = ep_view(u, ep, s, e, &runs);
    if (r == 0)
        r = vtd_shadow_apply(&ep->sh, s, e, runs.r, runs.n, &k);
    else
        vtd_shadow_drop(&ep->sh, s, e, &k);
    if (r) {
        u->st.map_failures++;
        ep_name(ep, name, sizeof(name));
        log_msg(ep->warned ? LOG_DEBUG : LOG_WARN,
                "vtd: %s: cannot map the guest's IOVAs [%#llx, %#llx] "
                "(%zu runs; device limit %llu, 0: none): %s; its DMA there "
                "faults", name, (unsigned long long)s, (unsigned long long)e,
                runs.n, (unsigned long long)k.max, strerror(-r));
        ep->warned = true;
    }
    free(runs.r);
    return r;
}

/* Whether endpoint @ep's context entry names domain @did now, or did at
 * its last walk (so a context entry just cleared is still found). */
static bool ep_in_domain(struct vtd *u, struct vtd_ep *ep, uint16_t did)
{
    struct vtd_walker w;
    struct vtd_ctx c;
    int fr;

    if (ep->did == did)
        return true;
    if (!(u->regs.gsts & VTD_GCMD_SRTP))
        return false;
    vtd_walker_of(u, &w);
    fr = vtd_walk_ctx(&w, u->regs.root, ep->bdf, &c);
    return (fr == 0 || fr == VTD_FR_CTX_INV || fr == VTD_FR_CTX_RSVD) &&
           c.did == did;
}

void vtd_inv_cc(void *opaque, uint32_t g, uint16_t did, uint16_t sid,
                uint8_t fm)
{
    static const uint16_t fmask[4] = { 0, 4, 6, 7 };
    struct vtd *u = opaque;

    u->st.invalidations++;
    if (!(u->regs.gsts & VTD_GCMD_TE))
        return; /* every endpoint sees the identity map */
    for (unsigned int i = 0; i < u->nep; i++) {
        struct vtd_ep *ep = &u->ep[i];
        bool hit = g == VTD_INV_GLOBAL ||
                   (g == VTD_INV_DOMAIN && ep_in_domain(u, ep, did)) ||
                   (g == VTD_INV_DEVICE &&
                    (ep->bdf & ~fmask[fm & 3]) == (sid & ~fmask[fm & 3]));

        if (hit)
            vtd_ep_sync(u, ep, 0, UINT64_MAX);
    }
}

void vtd_inv_iotlb(void *opaque, uint32_t g, uint16_t did, uint64_t addr,
                   uint8_t am)
{
    struct vtd *u = opaque;
    uint64_t s = 0, e = UINT64_MAX;

    u->st.invalidations++;
    if (!(u->regs.gsts & VTD_GCMD_TE))
        return;
    if (g == VTD_INV_PAGE) {
        s = addr & ~0xfffull;
        e = s + ((4096ull << am) - 1);
        if (e < s)
            e = UINT64_MAX;
    }
    for (unsigned int i = 0; i < u->nep; i++)
        if (g == VTD_INV_GLOBAL || ep_in_domain(u, &u->ep[i], did))
            vtd_ep_sync(u, &u->ep[i], s, e);
}

void vtd_sync_all(struct vtd *u)
{
    for (unsigned int i = 0; i < u->nep; i++)
        vtd_ep_sync(u, &u->ep[i], 0, UINT64_MAX);
}

static const struct vtd_iq_ops iq_ops = {
    .cc = vtd_inv_cc,
    .iotlb = vtd_inv_iotlb,
};

void vtd_perform(struct vtd *u, struct vtd_act *a)
{
    uint64_t addr;
    uint32_t data;

    if (a->te)
        vtd_sync_all(u);
    if (a->cc)
        vtd_inv_cc(u, a->cc_g, a->cc_did, a->cc_sid, a->cc_fm);
    if (a->iotlb)
        vtd_inv_iotlb(u, a->iotlb_g, a->iotlb_did, a->iotlb_addr,
                      a->iotlb_am);
    if (a->iq && vtd_iq_run(&u->regs, u->mem, u->mo, &iq_ops, u, a) < 0)
        u->st.iq_errors++;
    if (a->fault_msi) {
        vtd_regs_fault_msi(&u->regs, &addr, &data);
        u->mem->msi(u->mo, addr, data);
    }
    if (a->ie_msi) {
        vtd_regs_ie_msi(&u->regs, &addr, &data);
        u->mem->msi(u->mo, addr, data);
    }
}

static bool access_ok(uint64_t off, uint32_t len)
{
    return (len == 4 || len == 8) && !(off & (len - 1)) &&
           off < VTD_MMIO_SIZE && off + len <= VTD_MMIO_SIZE;
}

void vtd_mmio_read(struct vtd *u, uint64_t off, void *data, uint32_t len)
{
    uint64_t v;

    if (!access_ok(off, len)) {
        memset(data, 0xff, len);
        return;
    }
    pthread_mutex_lock(&u->lock);
    v = vtd_regs_read32(&u->regs, off);
    if (len == 8)
        v |= (uint64_t)vtd_regs_read32(&u->regs, off + 4) << 32;
    pthread_mutex_unlock(&u->lock);
    memcpy(data, &v, len); /* x86: little-endian */
}

void vtd_mmio_write(struct vtd *u, uint64_t off, const void *data,
                    uint32_t len)
{
    struct vtd_act a = {0};
    uint64_t v = 0;

    if (!access_ok(off, len))
        return;
    memcpy(&v, data, len);
    pthread_mutex_lock(&u->lock);
    vtd_regs_write32(&u->regs, off, (uint32_t)v, &a);
    if (len == 8)
        vtd_regs_write32(&u->regs, off + 4, (uint32_t)(v >> 32), &a);
    vtd_perform(u, &a);
    pthread_mutex_unlock(&u->lock);
}

int vtd_translate(struct vtd *u, uint16_t bdf, uint64_t iova, uint64_t len,
                  uint32_t perm, uint64_t *gpa, bool report)
{
    int e, r;

    pthread_mutex_lock(&u->lock);
    e = vtd_find_ep(u, bdf);
    r = e < 0 ? -ENOENT : vtd_shadow_lookup(&u->ep[e].sh, iova, len, perm,
                                            gpa);
    pthread_mutex_unlock(&u->lock);
    if (report && (r == -EFAULT || r == -EPERM))
        vtd_report_fault(u, bdf, iova, perm);
    return r;
}

/* The fault reason of a DMA of @bdf at @iova (0: not a remapping fault
 * to record: translation off, pass-through, FPD). */
static int fault_reason(struct vtd *u, uint16_t bdf, uint64_t iova,
                        uint32_t perm)
{
    struct vtd_walker w;
    struct vtd_ctx c;
    uint64_t gpa, psize;
    uint32_t eff;
    int fr;

    if (!(u->regs.gsts & VTD_GCMD_TE))
        return 0;
    vtd_walker_of(u, &w);
    fr = vtd_walk_ctx(&w, u->regs.root, bdf, &c);
    if (c.fpd)
        return 0;
    if (fr)
        return fr;
    if (c.tt == VTD_TT_PT)
        return 0;
    fr = vtd_walk_iova(&w, &c, iova, perm, &gpa, &eff, &psize);
    if (fr == 0) /* mapped in the tables, not in the backend */
        fr = perm & VTD_PERM_W ? VTD_FR_WRITE : VTD_FR_READ;
    return fr;
}

void vtd_report_fault(struct vtd *u, uint16_t bdf, uint64_t iova,
                      uint32_t perm)
{
    struct vtd_act a = {0};
    int fr;

    /* Not a blocking lock: the fault may come from a thread waiting,
     * inside an endpoint op under the lock, for a server that answers
     * with a DMA request. Such faults are counted. */
    if (pthread_mutex_trylock(&u->lock)) {
        atomic_fetch_add(&u->faults_busy, 1);
        return;
    }
    fr = fault_reason(u, bdf, iova, perm);
    if (fr) {
        if (vtd_regs_record_fault(&u->regs, bdf, (uint8_t)fr, iova,
                                  perm & VTD_PERM_W, &a))
            u->st.faults++;
        else
            u->st.faults_dropped++;
        vtd_perform(u, &a);
    }
    pthread_mutex_unlock(&u->lock);
}

void vtd_reset(struct vtd *u)
{
    pthread_mutex_lock(&u->lock);
    vtd_regs_reset(&u->regs, u->aw_bits);
    for (unsigned int i = 0; i < u->nep; i++) {
        u->ep[i].did = -1;
        u->ep[i].warned = false;
    }
    vtd_sync_all(u); /* translation off: the identity map */
    pthread_mutex_unlock(&u->lock);
}

void vtd_get_stats(struct vtd *u, struct vtd_stats *st)
{
    pthread_mutex_lock(&u->lock);
    *st = u->st;
    pthread_mutex_unlock(&u->lock);
    st->faults_dropped += atomic_load(&u->faults_busy);
}

int vtd_check(unsigned int aw_bits, const struct host_iommu_dev *host,
              char *err, size_t errlen)
{
    const struct host_iommu_caps *c = &host->caps;

    if (!c->pgsizes || c->iova_bits < 12 || c->iova_bits > 64 ||
        c->nresv > HOST_IOMMU_MAX_RESV) {
        snprintf(err, errlen, "%s: malformed host IOMMU capabilities (page "
                 "sizes %#llx, %u IOVA bits, %u reserved ranges)",
                 host->name, (unsigned long long)c->pgsizes, c->iova_bits,
                 c->nresv);
        return -EINVAL;
    }
    if (!(c->pgsizes & 4096)) {
        snprintf(err, errlen, "%s: cannot map 4K pages (page sizes %#llx), "
                 "which VT-d (--viommu intel) maps; use --viommu virtio,"
                 "page-size=... with its smallest page size", host->name,
                 (unsigned long long)c->pgsizes);
        return -EINVAL;
    }
    if (aw_bits <= c->iova_bits)
        return 0;
    if (c->iova_bits >= 39)
        snprintf(err, errlen, "%s: aw-bits %u > host aw-bits %u (--viommu "
                 "intel,aw-bits=%u); use aw-bits=39", host->name, aw_bits,
                 c->iova_bits, aw_bits);
    else
        snprintf(err, errlen, "%s: aw-bits %u > host aw-bits %u (--viommu "
                 "intel,aw-bits=%u), and VT-d's smallest is 39; use "
                 "--viommu virtio,input-bits=%u", host->name, aw_bits,
                 c->iova_bits, aw_bits, c->iova_bits);
    return -EINVAL;
}

int vtd_check_ram(struct vtd *u, const struct host_iommu_dev *host,
                  char *err, size_t errlen)
{
    const struct host_iommu_caps *c = &host->caps;
    int r = 0;

    pthread_mutex_lock(&u->lock);
    if (c->max_mappings && c->max_mappings < u->nram) {
        snprintf(err, errlen, "%s: at most %llu DMA mappings, the identity "
                 "map of guest RAM (translation off) needs %u; use a device "
                 "allowing %u (vfu-blk --max-dma-maps %u)", host->name,
                 (unsigned long long)c->max_mappings, u->nram, u->nram,
                 u->nram);
        r = -EINVAL;
    }
    for (unsigned int i = 0; r == 0 && i < c->nresv &&
                             i < HOST_IOMMU_MAX_RESV; i++)
        for (unsigned int j = 0; r == 0 && j < u->nram; j++)
            if (c->resv[i].start <= u->ram[j].last &&
                c->resv[i].last >= u->ram[j].iova) {
                snprintf(err, errlen, "%s: reserves IOVAs [%#llx, %#llx], "
                         "inside guest RAM [%#llx, %#llx] which the "
                         "identity map (translation off) needs; use a "
                         "smaller --memory", host->name,
                         (unsigned long long)c->resv[i].start,
                         (unsigned long long)c->resv[i].last,
                         (unsigned long long)u->ram[j].iova,
                         (unsigned long long)u->ram[j].last);
                r = -EINVAL;
            }
    pthread_mutex_unlock(&u->lock);
    return r;
}
