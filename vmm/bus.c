/* SPDX-License-Identifier: BSD-3-Clause */
/* Address-space bus (see bus.h): a sorted array of ranges, looked up with a
 * binary search under a read lock; each range is refcounted so dispatch
 * calls its handler without holding the bus lock. */
#include "vmm/bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bus_range {
    uint64_t base;
    uint64_t len;
    const struct bus_ops *ops;
    void *opaque;
    unsigned int refs; /* atomic: the bus's reference + calls in flight */
};

struct bus {
    pthread_rwlock_t lock;
    struct bus_range **ranges; /* sorted by base, non-overlapping */
    size_t count;
    size_t cap;
    char name[16];
};

int bus_create(const char *name, struct bus **out)
{
    struct bus *bus = calloc(1, sizeof(*bus));

    if (!bus)
        return -ENOMEM;
    pthread_rwlock_init(&bus->lock, NULL);
    strncpy(bus->name, name, sizeof(bus->name) - 1);
    *out = bus;
    return 0;
}

static void range_put(struct bus_range *r)
{
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(r);
}

void bus_destroy(struct bus *bus)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->count; i++)
        range_put(bus->ranges[i]);
    free(bus->ranges);
    pthread_rwlock_destroy(&bus->lock);
    free(bus);
}

/* Index of the first range whose end is above @addr (lower bound). */
static size_t bus_lower_bound(const struct bus *bus, uint64_t addr)
{
    size_t lo = 0, hi = bus->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct bus_range *r = bus->ranges[mid];

        if (r->base + (r->len - 1) < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int bus_grow(struct bus *bus)
{
    size_t cap = bus->cap ? bus->cap * 2 : 16;
    struct bus_range **n = realloc(bus->ranges, cap * sizeof(*n));

    if (!n)
        return -ENOMEM;
    bus->ranges = n;
    bus->cap = cap;
    return 0;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
                 const struct bus_ops *ops, void *opaque)
{
    struct bus_range *r;
    size_t i;
    int ret = 0;

    if (len == 0 || base + (len - 1) < base)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    *r = (struct bus_range){ base, len, ops, opaque, 1 };

    pthread_rwlock_wrlock(&bus->lock);
    i = bus_lower_bound(bus, base);
    if (i < bus->count && bus->ranges[i]->base <= base + (len - 1)) {
        ret = -EEXIST;
        goto out;
    }
    if (bus->count == bus->cap && (ret = bus_grow(bus)) < 0)
        goto out;
    memmove(&bus->ranges[i + 1], &bus->ranges[i],
            (bus->count - i) * sizeof(*bus->ranges));
    bus->ranges[i] = r;
    bus->count++;
out:
    pthread_rwlock_unlock(&bus->lock);
    if (ret)
        free(r);
    return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
    struct bus_range *r = NULL;
    size_t i;

    pthread_rwlock_wrlock(&bus->lock);
    i = bus_lower_bound(bus, base);
    if (i < bus->count && bus->ranges[i]->base == base) {
        r = bus->ranges[i];
        memmove(&bus->ranges[i], &bus->ranges[i + 1],
                (bus->count - i - 1) * sizeof(*bus->ranges));
        bus->count--;
    }
    pthread_rwlock_unlock(&bus->lock);
    if (!r)
        return -ENOENT;
    range_put(r);
    return 0;
}

int bus_dispatch(struct bus *bus, uint64_t addr, void *data, uint32_t len,
                 bool is_write)
{
    struct bus_range *r = NULL;
    size_t i;

    pthread_rwlock_rdlock(&bus->lock);
    i = bus_lower_bound(bus, addr);
    if (i < bus->count) {
        struct bus_range *c = bus->ranges[i];
        uint64_t off = addr - c->base;

        if (addr >= c->base && len <= c->len && off <= c->len - len) {
            r = c;
            __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
        }
    }
    pthread_rwlock_unlock(&bus->lock);

    if (!r) {
        if (!is_write)
            memset(data, 0xff, len);
        return -ENOENT;
    }
    if (is_write)
        r->ops->write(r->opaque, addr - r->base, data, len);
    else
        r->ops->read(r->opaque, addr - r->base, data, len);
    range_put(r);
    return 0;
}
