/* SPDX-License-Identifier: BSD-3-Clause */
/* Device registry (see devreg.h). */
#include "vmm/devreg.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct devreg_slot {
    char id[DEVREG_ID_MAX];
    struct devreg_entry e;
};

struct devreg_blocker {
    char id[DEVREG_ID_MAX];
    char why[128];
};

struct devreg {
    pthread_mutex_t lock;
    unsigned int n;
    struct devreg_slot slots[DEVREG_MAX];
    unsigned int nblock;
    struct devreg_blocker block[DEVREG_MAX];
};

int devreg_create(struct devreg **out)
{
    struct devreg *r = calloc(1, sizeof(*r));

    if (!r)
        return -ENOMEM;
    pthread_mutex_init(&r->lock, NULL);
    *out = r;
    return 0;
}

void devreg_destroy(struct devreg *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int devreg_valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n >= DEVREG_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr(",._+@-", c)))
            return 0;
    }
    return 1;
}

static int find(const struct devreg *r, const char *id)
{
    for (unsigned int i = 0; i < r->n; i++)
        if (!strcmp(r->slots[i].id, id))
            return (int)i;
    return -1;
}

int devreg_add(struct devreg *r, const struct devreg_entry *e)
{
    struct devreg_slot *s;
    int ret = 0;

    if (!e->state || !e->state->save || !e->state->load ||
        !devreg_valid_id(e->id))
        return -EINVAL;
    pthread_mutex_lock(&r->lock);
    if (find(r, e->id) >= 0) {
        ret = -EEXIST;
    } else if (r->n == DEVREG_MAX) {
        ret = -ENOSPC;
    } else {
        s = &r->slots[r->n++];
        strcpy(s->id, e->id);
        s->e = *e;
        s->e.id = s->id;
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

int devreg_del(struct devreg *r, const char *id)
{
    int i;

    pthread_mutex_lock(&r->lock);
    i = find(r, id);
    if (i >= 0) {
        memmove(&r->slots[i], &r->slots[i + 1],
                (r->n - (unsigned int)i - 1) * sizeof(r->slots[0]));
        r->n--;
        for (unsigned int k = 0; k < r->n; k++)
            r->slots[k].e.id = r->slots[k].id;
    }
    for (unsigned int k = 0; k < r->nblock; k++) {
        if (strcmp(r->block[k].id, id))
            continue;
        memmove(&r->block[k], &r->block[k + 1],
                (r->nblock - k - 1) * sizeof(r->block[0]));
        r->nblock--;
        k--;
    }
    pthread_mutex_unlock(&r->lock);
    return i >= 0 ? 0 : -ENOENT;
}

unsigned int devreg_count(struct devreg *r)
{
    unsigned int n;

    pthread_mutex_lock(&r->lock);
    n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

int devreg_get(struct devreg *r, unsigned int i, struct devreg_entry *out,
               char *idbuf)
{
    int ret = -ENOENT;

    pthread_mutex_lock(&r->lock);
    if (i < r->n) {
        *out = r->slots[i].e;
        strcpy(idbuf, r->slots[i].id);
        out->id = idbuf;
        ret = 0;
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

int devreg_add_blocker(struct devreg *r, const char *id, const char *why)
{
    int ret = 0;

    if (!devreg_valid_id(id))
        return -EINVAL;
    pthread_mutex_lock(&r->lock);
    if (r->nblock == DEVREG_MAX) {
        ret = -ENOSPC;
    } else {
        snprintf(r->block[r->nblock].id, DEVREG_ID_MAX, "%s", id);
        snprintf(r->block[r->nblock].why, sizeof(r->block[0].why), "%s",
                 why ? why : "no migration support");
        r->nblock++;
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

int devreg_blocked(struct devreg *r, char *msg, size_t len)
{
    int ret = 0;

    pthread_mutex_lock(&r->lock);
    if (r->nblock) {
        snprintf(msg, len, "device %s cannot be migrated: %s",
                 r->block[0].id, r->block[0].why);
        ret = -EOPNOTSUPP;
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}
