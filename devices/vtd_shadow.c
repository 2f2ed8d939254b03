/* SPDX-License-Identifier: BSD-3-Clause */
/* A VT-d endpoint's shadow mappings and the unmap/map diff (see
 * vtd_shadow.h). */
#include "devices/vtd_shadow.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void vtd_shadow_fini(struct vtd_shadow *sh)
{
    free(sh->r);
    memset(sh, 0, sizeof(*sh));
}

static int reserve(struct vtd_shadow *sh, size_t n)
{
    struct vtd_run *p;
    size_t nc = sh->cap ? sh->cap : 16;

    if (n <= sh->cap)
        return 0;
    while (nc < n)
        nc *= 2;
    p = realloc(sh->r, nc * sizeof(*p));
    if (!p)
        return -ENOMEM;
    sh->r = p;
    sh->cap = nc;
    return 0;
}

int vtd_shadow_set(struct vtd_shadow *sh, const struct vtd_run *runs,
                   size_t n)
{
    if (reserve(sh, n))
        return -ENOMEM;
    if (n)
        memcpy(sh->r, runs, n * sizeof(*runs));
    sh->n = n;
    return 0;
}

/* Index of the first run with last >= @addr (n if none). */
static size_t first_ending_at_or_after(const struct vtd_shadow *sh,
                                       uint64_t addr)
{
    size_t lo = 0, hi = sh->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sh->r[mid].last < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* [*i0, *i1): the runs overlapping [s, e]. */
static void overlap(const struct vtd_shadow *sh, uint64_t s, uint64_t e,
                    size_t *i0, size_t *i1)
{
    size_t j = first_ending_at_or_after(sh, s);

    *i0 = j;
    while (j < sh->n && sh->r[j].iova <= e)
        j++;
    *i1 = j;
}

static void call_unmap(const struct vtd_sink *k, const struct vtd_run *m)
{
    if (k->ops && k->ops->unmap) {
        k->ops->unmap(k->opaque, m->iova, m->last);
        if (k->unmaps)
            (*k->unmaps)++;
    }
}

static int call_map(const struct vtd_sink *k, const struct vtd_run *m)
{
    int r;

    if (!k->ops || !k->ops->map)
        return 0;
    r = k->ops->map(k->opaque, m->iova, m->last, m->gpa, m->perm);
    if (r == 0 && k->maps)
        (*k->maps)++;
    return r > 0 ? -EIO : r;
}

/* Unmap runs [i0, i1) and remove them from the shadow. */
static void drop_runs(struct vtd_shadow *sh, size_t i0, size_t i1,
                      const struct vtd_sink *k)
{
    for (size_t j = i0; j < i1; j++)
        call_unmap(k, &sh->r[j]);
    memmove(&sh->r[i0], &sh->r[i1], (sh->n - i1) * sizeof(*sh->r));
    sh->n -= i1 - i0;
}

void vtd_shadow_drop(struct vtd_shadow *sh, uint64_t s, uint64_t e,
                     const struct vtd_sink *k)
{
    size_t i0, i1;

    overlap(sh, s, e, &i0, &i1);
    drop_runs(sh, i0, i1, k);
}

/* The new view of the span the old runs [i0, i1) and [s, e] cover: the
 * old runs' outside parts and @runs, coalesced. */
static int desired(const struct vtd_shadow *sh, size_t i0, size_t i1,
                   uint64_t s, uint64_t e, const struct vtd_run *runs,
                   size_t n, struct vtd_runs *d)
{
    int r = 0;

    d->max = n + 2;
    if (i0 < i1 && sh->r[i0].iova < s) {
        struct vtd_run h = sh->r[i0];

        h.last = s - 1;
        r = vtd_runs_add(d, &h);
    }
    for (size_t j = 0; j < n && r == 0; j++)
        r = vtd_runs_add(d, &runs[j]);
    if (r == 0 && i0 < i1 && sh->r[i1 - 1].last > e) {
        struct vtd_run t = sh->r[i1 - 1];

        t.gpa += e + 1 - t.iova;
        t.iova = e + 1;
        r = vtd_runs_add(d, &t);
    }
    return r;
}

static bool run_eq(const struct vtd_run *a, const struct vtd_run *b)
{
    return a->iova == b->iova && a->last == b->last && a->gpa == b->gpa &&
           a->perm == b->perm;
}

/* Mark the old runs [i0, i1) that @d holds unchanged: keep[j - i0] and
 * same[k] (both lists are sorted by iova). */
static void mark_kept(const struct vtd_shadow *sh, size_t i0, size_t i1,
                      const struct vtd_runs *d, bool *keep, bool *same)
{
    size_t j = i0, k = 0;

    while (j < i1 && k < d->n) {
        if (sh->r[j].iova < d->r[k].iova) {
            j++;
        } else if (sh->r[j].iova > d->r[k].iova) {
            k++;
        } else {
            keep[j - i0] = same[k] = run_eq(&sh->r[j], &d->r[k]);
            j++;
            k++;
        }
    }
}

/* Unmap the changed old runs, map the new ones; on a map failure undo
 * to "nothing in the span". 0 or the map error. */
static int switch_runs(const struct vtd_shadow *sh, size_t i0, size_t i1,
                       const struct vtd_runs *d, const bool *keep,
                       const bool *same, const struct vtd_sink *k)
{
    size_t j;
    int r = 0;

    for (j = i0; j < i1; j++)
        if (!keep[j - i0])
            call_unmap(k, &sh->r[j]);
    for (j = 0; j < d->n && r == 0; j++)
        if (!same[j])
            r = call_map(k, &d->r[j]);
    if (!r)
        return 0;
    for (size_t m = 0; m + 1 < j; m++) /* the failed one is not mapped */
        if (!same[m])
            call_unmap(k, &d->r[m]);
    for (size_t m = i0; m < i1; m++)
        if (keep[m - i0])
            call_unmap(k, &sh->r[m]);
    return r;
}

static void splice(struct vtd_shadow *sh, size_t i0, size_t i1,
                   const struct vtd_runs *d)
{
    memmove(&sh->r[i0 + d->n], &sh->r[i1], (sh->n - i1) * sizeof(*sh->r));
    if (d->n)
        memcpy(&sh->r[i0], d->r, d->n * sizeof(*d->r));
    sh->n = sh->n - (i1 - i0) + d->n;
}

int vtd_shadow_apply(struct vtd_shadow *sh, uint64_t s, uint64_t e,
                     const struct vtd_run *runs, size_t n,
                     const struct vtd_sink *k)
{
    struct vtd_runs d = {0};
    uint64_t limit = k->max && k->max < VTD_MAX_RUNS ? k->max
                                                      : VTD_MAX_RUNS;
    bool *keep = NULL;
    size_t i0, i1;
    int r;

    overlap(sh, s, e, &i0, &i1);
    r = desired(sh, i0, i1, s, e, runs, n, &d);
    if (r == 0 && sh->n - (i1 - i0) + d.n > limit)
        r = -ENOSPC;
    if (r == 0 && reserve(sh, sh->n - (i1 - i0) + d.n))
        r = -ENOMEM;
    if (r == 0 && !(keep = calloc(i1 - i0 + d.n + 1, sizeof(*keep))))
        r = -ENOMEM;
    if (r) {
        drop_runs(sh, i0, i1, k);
        free(d.r);
        return r;
    }
    mark_kept(sh, i0, i1, &d, keep, keep + (i1 - i0));
    r = switch_runs(sh, i0, i1, &d, keep, keep + (i1 - i0), k);
    if (r) { /* every run of the span is unmapped now */
        memmove(&sh->r[i0], &sh->r[i1], (sh->n - i1) * sizeof(*sh->r));
        sh->n -= i1 - i0;
    } else {
        splice(sh, i0, i1, &d);
    }
    free(keep);
    free(d.r);
    return r;
}

int vtd_shadow_lookup(const struct vtd_shadow *sh, uint64_t iova,
                      uint64_t len, uint32_t perm, uint64_t *gpa)
{
    uint64_t last = iova + len - 1;
    size_t i, j;

    if (!len || last < iova)
        return -EFAULT;
    i = first_ending_at_or_after(sh, iova);
    if (i == sh->n || iova < sh->r[i].iova)
        return -EFAULT;
    /* runs mapped apart but contiguous in IOVA and GPA read as one */
    for (j = i; last > sh->r[j].last; j++) {
        const struct vtd_run *a = &sh->r[j], *b = &sh->r[j + 1];

        if (j + 1 == sh->n || b->iova != a->last + 1 ||
            b->gpa != a->gpa + (a->last - a->iova) + 1)
            return -EFAULT;
    }
    for (size_t k = i; k <= j; k++)
        if ((sh->r[k].perm & perm) != perm)
            return -EPERM;
    *gpa = sh->r[i].gpa + (iova - sh->r[i].iova);
    return 0;
}
