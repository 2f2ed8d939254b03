/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu domains, endpoints, IOVA maps (see iommu_dom.h; virtio 1.2
 * section 5.13.6). */
#include "virtio/iommu_dom.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/iommu_proto.h"

void viommu_dom_init(struct viommu_dom *s, uint64_t page_size,
                     unsigned int input_bits, const struct viommu_sink *sink,
                     void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->page_size = page_size;
    s->input_last = input_bits >= 64 ? UINT64_MAX
                                     : (1ULL << input_bits) - 1;
    s->bypass = true;
    s->bypass_config = true;
    s->sink = sink;
    s->opaque = opaque;
}

static void domain_free(struct viommu_dom *s, struct viommu_domain *d)
{
    s->total -= d->n;
    free(d->m);
    memset(d, 0, sizeof(*d));
}

void viommu_dom_fini(struct viommu_dom *s)
{
    for (unsigned int i = 0; i < VIOMMU_MAX_DOMAINS; i++)
        domain_free(s, &s->dom[i]);
}

int viommu_dom_add_ram(struct viommu_dom *s, uint64_t gpa, uint64_t size)
{
    if (!size || gpa + size - 1 < gpa)
        return -EINVAL;
    if (s->nidentity >= VIOMMU_MAX_IDENTITY)
        return -ENOSPC;
    if (s->nidentity && gpa <= s->identity[s->nidentity - 1].last)
        return -EINVAL; /* ascending and disjoint: translate searches */
    s->identity[s->nidentity++] = (struct viommu_map){
        .start = gpa, .last = gpa + size - 1, .phys = gpa,
        .flags = VIOMMU_MAP_F_READ | VIOMMU_MAP_F_WRITE,
    };
    return 0;
}

int viommu_dom_find_ep(const struct viommu_dom *s, uint32_t id)
{
    for (unsigned int i = 0; i < s->nep; i++)
        if (s->ep[i].id == id)
            return (int)i;
    return -1;
}

int viommu_dom_add_ep(struct viommu_dom *s, uint32_t id,
                      const struct host_iommu_dev *host)
{
    if (viommu_dom_find_ep(s, id) >= 0)
        return -EEXIST;
    if (s->nep >= VIOMMU_MAX_ENDPOINTS)
        return -ENOSPC;
    s->ep[s->nep] = (struct viommu_ep){ .id = id, .domain = -1,
                                        .host = *host };
    return (int)s->nep++;
}

/* What an endpoint attached to @dom (-1: none) sees. */
static void windows_of(const struct viommu_dom *s, int32_t dom,
                       const struct viommu_map **ws, size_t *n)
{
    const struct viommu_domain *d = dom >= 0 ? &s->dom[dom] : NULL;

    if ((d && d->bypass) || (!d && s->bypass)) {
        *ws = s->identity;
        *n = s->nidentity;
    } else if (d) {
        *ws = d->m;
        *n = d->n;
    } else {
        *ws = NULL;
        *n = 0;
    }
}

void viommu_dom_ep_windows(const struct viommu_dom *s, unsigned int ep,
                           const struct viommu_map **ws, size_t *n)
{
    if (s->ep[ep].blocked) {
        *ws = NULL;
        *n = 0;
        return;
    }
    windows_of(s, s->ep[ep].domain, ws, n);
}

static void sink_unmap_all(struct viommu_dom *s, unsigned int ep,
                           const struct viommu_map *ws, size_t n)
{
    for (size_t i = 0; s->sink && s->sink->unmap && i < n; i++)
        s->sink->unmap(s->opaque, ep, &ws[i]);
}

/* Map @n windows for @ep; on failure unmap those done. 0 or -errno. */
static int sink_map_all(struct viommu_dom *s, unsigned int ep,
                        const struct viommu_map *ws, size_t n)
{
    int r = 0;
    size_t i;

    for (i = 0; s->sink && s->sink->map && i < n && r == 0; i++)
        r = s->sink->map(s->opaque, ep, &ws[i]);
    if (r)
        sink_unmap_all(s, ep, ws, i - 1);
    return r;
}

static uint8_t status_of(int err)
{
    switch (err) {
    case 0: return VIOMMU_S_OK;
    case -ENOSPC: case -ENOMEM: return VIOMMU_S_NOMEM;
    case -EFAULT: case -EINVAL: return VIOMMU_S_INVAL;
    default: return VIOMMU_S_DEVERR;
    }
}

/* Make endpoint @ep see what domain @to (-1: unattached) shows. On
 * failure its old windows are mapped again; if even that fails it is
 * blocked (sees nothing) until a later switch succeeds. 0 or -errno. */
static int switch_view(struct viommu_dom *s, unsigned int ep, int32_t to)
{
    const struct viommu_map *ow, *nw;
    size_t on, nn;
    int r;

    viommu_dom_ep_windows(s, ep, &ow, &on);
    windows_of(s, to, &nw, &nn);
    if (ow == nw && on == nn && !s->ep[ep].blocked)
        return 0;
    sink_unmap_all(s, ep, ow, on);
    r = sink_map_all(s, ep, nw, nn);
    if (r && sink_map_all(s, ep, ow, on))
        s->ep[ep].blocked = true;
    else if (!r)
        s->ep[ep].blocked = false;
    return r;
}

/* Mapping limit of domain @d: the smallest of its endpoints' devices. */
static uint64_t domain_limit(const struct viommu_dom *s, int32_t d)
{
    uint64_t lim = VIOMMU_MAX_MAPPINGS;

    for (unsigned int i = 0; i < s->nep; i++) {
        uint64_t m = s->ep[i].host.caps.max_mappings;

        if (s->ep[i].domain == d && m && m < lim)
            lim = m;
    }
    return lim;
}

static void release(struct viommu_dom *s, int32_t d)
{
    if (d >= 0 && --s->dom[d].nep == 0)
        domain_free(s, &s->dom[d]);
}

uint8_t viommu_dom_attach(struct viommu_dom *s, uint32_t domain,
                          uint32_t endpoint, uint32_t flags)
{
    int e = viommu_dom_find_ep(s, endpoint);
    bool bypass = flags & VIOMMU_ATTACH_F_BYPASS;
    struct viommu_domain *d;
    int32_t old;
    int r;

    if (domain >= VIOMMU_MAX_DOMAINS)
        return VIOMMU_S_RANGE;
    if (e < 0)
        return VIOMMU_S_NOENT;
    if ((flags & ~VIOMMU_ATTACH_F_BYPASS) || (bypass && !s->bypass_config))
        return VIOMMU_S_INVAL;
    d = &s->dom[domain];
    if (d->live && d->bypass != bypass)
        return VIOMMU_S_INVAL;
    old = s->ep[e].domain;
    if (old == (int32_t)domain) /* again: retry if it was left blocked */
        return status_of(switch_view(s, (unsigned int)e, old));
    if (d->live && s->ep[e].host.caps.max_mappings &&
        d->n > s->ep[e].host.caps.max_mappings)
        return VIOMMU_S_NOMEM; /* the device cannot hold the domain */
    d->live = true;
    d->bypass = bypass;
    r = switch_view(s, (unsigned int)e, (int32_t)domain);
    if (r) {
        if (!d->nep)
            domain_free(s, d);
        return status_of(r);
    }
    d->nep++;
    s->ep[e].domain = (int32_t)domain;
    release(s, old);
    return VIOMMU_S_OK;
}

uint8_t viommu_dom_detach(struct viommu_dom *s, uint32_t domain,
                          uint32_t endpoint)
{
    int e = viommu_dom_find_ep(s, endpoint);
    int r;

    if (domain >= VIOMMU_MAX_DOMAINS)
        return VIOMMU_S_RANGE;
    if (e < 0)
        return VIOMMU_S_NOENT;
    if (s->ep[e].domain != (int32_t)domain)
        return VIOMMU_S_INVAL;
    r = switch_view(s, (unsigned int)e, -1);
    if (r)
        return status_of(r);
    s->ep[e].domain = -1;
    release(s, (int32_t)domain);
    return VIOMMU_S_OK;
}

/* Index of the first mapping with last >= @addr (n if none). */
static size_t first_ending_at_or_after(const struct viommu_domain *d,
                                       uint64_t addr)
{
    size_t lo = 0, hi = d->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (d->m[mid].last < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int insert_at(struct viommu_domain *d, size_t i,
                     const struct viommu_map *m)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        struct viommu_map *p = realloc(d->m, nc * sizeof(*p));

        if (!p)
            return -ENOMEM;
        d->m = p;
        d->cap = nc;
    }
    if (i < d->n)
        memmove(&d->m[i + 1], &d->m[i], (d->n - i) * sizeof(*d->m));
    d->m[i] = *m;
    d->n++;
    return 0;
}

/* Tell every endpoint attached to @domain about @m (map or unmap). On a
 * map failure the endpoints done are unmapped again. 0 or -errno. */
static int fan_out(struct viommu_dom *s, uint32_t domain,
                   const struct viommu_map *m, bool map)
{
    unsigned int i;
    int r = 0;

    for (i = 0; i < s->nep && r == 0; i++) {
        if (s->ep[i].domain != (int32_t)domain || !s->sink)
            continue;
        if (map && s->sink->map)
            r = s->sink->map(s->opaque, i, m);
        else if (!map && s->sink->unmap)
            s->sink->unmap(s->opaque, i, m);
    }
    for (unsigned int j = 0; r && j + 1 < i; j++)
        if (s->ep[j].domain == (int32_t)domain && s->sink->unmap)
            s->sink->unmap(s->opaque, j, m);
    return r;
}

static bool map_ok(const struct viommu_dom *s, const struct viommu_map *m)
{
    uint64_t mask = s->page_size - 1;

    return m->start <= m->last && !(m->start & mask) &&
           !((m->last + 1) & mask) && !(m->phys & mask) &&
           m->phys + (m->last - m->start) >= m->phys &&
           m->last - m->start != UINT64_MAX;
}

uint8_t viommu_dom_map(struct viommu_dom *s, uint32_t domain,
                       const struct viommu_map *m)
{
    struct viommu_domain *d;
    size_t i;
    int r;

    if (domain >= VIOMMU_MAX_DOMAINS)
        return VIOMMU_S_RANGE;
    d = &s->dom[domain];
    if (!d->live)
        return VIOMMU_S_NOENT;
    if (d->bypass || (m->flags & ~(VIOMMU_MAP_F_READ | VIOMMU_MAP_F_WRITE)))
        return VIOMMU_S_INVAL;
    if (m->start > s->input_last || m->last > s->input_last)
        return VIOMMU_S_RANGE;
    if (!map_ok(s, m))
        return VIOMMU_S_INVAL;
    i = first_ending_at_or_after(d, m->start);
    if (i < d->n && d->m[i].start <= m->last)
        return VIOMMU_S_INVAL; /* overlaps */
    if (d->n >= domain_limit(s, (int32_t)domain) ||
        s->total >= VIOMMU_MAX_TOTAL)
        return VIOMMU_S_NOMEM;
    r = fan_out(s, domain, m, true);
    if (r == 0) {
        r = insert_at(d, i, m);
        if (r)
            fan_out(s, domain, m, false);
        else
            s->total++;
    }
    return status_of(r);
}

uint8_t viommu_dom_unmap(struct viommu_dom *s, uint32_t domain,
                         uint64_t start, uint64_t last)
{
    struct viommu_domain *d;
    size_t i, j;

    if (domain >= VIOMMU_MAX_DOMAINS)
        return VIOMMU_S_RANGE;
    d = &s->dom[domain];
    if (!d->live)
        return VIOMMU_S_NOENT;
    if (d->bypass || start > last)
        return VIOMMU_S_INVAL;
    i = first_ending_at_or_after(d, start);
    /* Every mapping touched must be wholly inside: else nothing goes. */
    for (j = i; j < d->n && d->m[j].start <= last; j++)
        if (d->m[j].start < start || d->m[j].last > last)
            return VIOMMU_S_RANGE;
    if (i == j)
        return VIOMMU_S_OK; /* nothing mapped there (d->m may be NULL) */
    for (size_t k = i; k < j; k++)
        fan_out(s, domain, &d->m[k], false);
    memmove(&d->m[i], &d->m[j], (d->n - j) * sizeof(*d->m));
    d->n -= j - i;
    s->total -= j - i;
    return VIOMMU_S_OK;
}

int viommu_dom_set_bypass(struct viommu_dom *s, bool on)
{
    unsigned int i;
    int r = 0;

    if (s->bypass == on)
        return 0;
    for (i = 0; i < s->nep && r == 0; i++) {
        if (s->ep[i].domain >= 0 || s->ep[i].blocked)
            continue;
        if (on)
            r = sink_map_all(s, i, s->identity, s->nidentity);
        else
            sink_unmap_all(s, i, s->identity, s->nidentity);
    }
    if (r) { /* all or nothing: those switched on before go back off */
        for (i--; i-- > 0;) /* the failed one cleaned up after itself */
            if (s->ep[i].domain < 0 && !s->ep[i].blocked)
                sink_unmap_all(s, i, s->identity, s->nidentity);
        return r;
    }
    s->bypass = on;
    return 0;
}

void viommu_dom_reset(struct viommu_dom *s)
{
    const struct viommu_map *ws;
    size_t n;

    for (unsigned int i = 0; i < s->nep; i++) {
        viommu_dom_ep_windows(s, i, &ws, &n);
        sink_unmap_all(s, i, ws, n);
        s->ep[i].domain = -1;
    }
    viommu_dom_fini(s);
    s->bypass = true;
    for (unsigned int i = 0; i < s->nep; i++)
        s->ep[i].blocked = sink_map_all(s, i, s->identity, s->nidentity);
}

int viommu_dom_translate(const struct viommu_dom *s, unsigned int ep,
                         uint64_t iova, uint64_t len, uint32_t prot,
                         uint64_t *gpa)
{
    const struct viommu_map *ws;
    size_t n, lo = 0, hi;

    if (!len || iova + len - 1 < iova || ep >= s->nep)
        return -EFAULT;
    viommu_dom_ep_windows(s, ep, &ws, &n);
    hi = n;
    while (lo < hi) { /* windows are sorted and disjoint */
        size_t mid = lo + (hi - lo) / 2;

        if (ws[mid].last < iova)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n || iova < ws[lo].start || iova + len - 1 > ws[lo].last)
        return -EFAULT;
    if ((ws[lo].flags & prot) != prot)
        return -EPERM;
    *gpa = ws[lo].phys + (iova - ws[lo].start);
    return 0;
}
