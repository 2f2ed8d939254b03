/* SPDX-License-Identifier: BSD-3-Clause */
/* A fake hypervisor behind vmm/hv.h for unit tests: it keeps what KVM would
 * (MSI routes by GSI, irqfds per GSI, ioeventfds, memslots), checks each
 * call against KVM's rules, and can be told to fail one kind of call.
 *
 *     struct fake_hv h;
 *     fake_hv_init(&h, 24);                  GSIs handed out from 24
 *     dev_env.hv = fake_hv(&h);
 *     ...
 *     assert_int_equal(h.errors, 0);         no call broke KVM's rules
 *     assert_int_equal(fake_hv_live_routes(&h), 0);   all released
 *
 * KVM's rules checked (Documentation/virt/kvm/api.rst): KVM_IRQFD on a GSI
 * with no route is refused here (KVM would accept and drop interrupts, a
 * bug in the caller), a second irqfd for the same eventfd is -EBUSY,
 * deassigning one that is not there -ENOENT; a duplicate ioeventfd (same
 * address, length, datamatch) -EEXIST, deassigning an unknown one -ENOENT;
 * memslots may not overlap (-EEXIST) and must be page-aligned (-EINVAL);
 * unknown GSIs and slots -EINVAL. Each refusal counts in @errors.
 * Header-only, no globals: every state is in the struct. Single-threaded
 * use (the devices' own locks serialise their calls). */
#ifndef MINIVMM_TESTS_FAKE_HV_H
#define MINIVMM_TESTS_FAKE_HV_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/hv.h"

#define FAKE_HV_MAX 64

enum fake_hv_op {
    FAKE_HV_NONE,
    FAKE_HV_MSI_ADD,
    FAKE_HV_MSI_UPDATE,
    FAKE_HV_MSI_DEL,
    FAKE_HV_IRQFD,
    FAKE_HV_IOEVENTFD,
    FAKE_HV_MEMSLOT_ADD,
    FAKE_HV_MEMSLOT_DEL,
};

struct fake_hv_route {
    bool live;
    uint64_t addr;
    uint32_t data;
    int irqfd;        /* -1: none */
    int resample_fd;
};

struct fake_hv_ioev {
    int fd;
    uint64_t addr;
    uint32_t len;
    bool pio, datamatch;
    uint64_t data;
};

struct fake_hv_slot {
    bool live;
    uint64_t gpa, size;
    void *hva;
    bool readonly;
};

struct fake_hv {
    uint32_t gsi_base;
    struct fake_hv_route route[FAKE_HV_MAX];  /* index: GSI - gsi_base */
    struct fake_hv_ioev ioev[FAKE_HV_MAX];
    unsigned int nioev;
    struct fake_hv_slot slot[FAKE_HV_MAX];
    /* Calls by kind (enum fake_hv_op) and refused calls. */
    unsigned int calls[FAKE_HV_MEMSLOT_DEL + 1];
    unsigned int errors;
    /* Failure injection: the next call of kind @fail_op returns @fail_err
     * (negative errno) and changes nothing; then it is cleared. */
    enum fake_hv_op fail_op;
    int fail_err;
};

static inline void fake_hv_init(struct fake_hv *h, uint32_t gsi_base)
{
    memset(h, 0, sizeof(*h));
    h->gsi_base = gsi_base;
}

/* Whether to fail this call of kind @op (counted either way). */
static inline int fake_hv_enter(struct fake_hv *h, enum fake_hv_op op)
{
    h->calls[op]++;
    if (h->fail_op != op)
        return 0;
    h->fail_op = FAKE_HV_NONE;
    return h->fail_err;
}

static inline int fake_hv_refuse(struct fake_hv *h, int err)
{
    h->errors++;
    return err;
}

/* The live route of @gsi, or NULL. */
static inline struct fake_hv_route *fake_hv_route(struct fake_hv *h,
                                                  uint32_t gsi)
{
    if (gsi < h->gsi_base || gsi - h->gsi_base >= FAKE_HV_MAX ||
        !h->route[gsi - h->gsi_base].live)
        return NULL;
    return &h->route[gsi - h->gsi_base];
}

static inline unsigned int fake_hv_live_routes(const struct fake_hv *h)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < FAKE_HV_MAX; i++)
        n += h->route[i].live;
    return n;
}

static inline unsigned int fake_hv_live_irqfds(const struct fake_hv *h)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < FAKE_HV_MAX; i++)
        n += h->route[i].live && h->route[i].irqfd >= 0;
    return n;
}

static inline unsigned int fake_hv_live_slots(const struct fake_hv *h)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < FAKE_HV_MAX; i++)
        n += h->slot[i].live;
    return n;
}

static inline int fake_hv_msi_add(void *o, uint64_t addr, uint32_t data,
                                  uint32_t *gsi)
{
    struct fake_hv *h = o;
    int r = fake_hv_enter(h, FAKE_HV_MSI_ADD);

    if (r < 0)
        return r;
    for (unsigned int i = 0; i < FAKE_HV_MAX; i++) {
        if (h->route[i].live)
            continue;
        h->route[i] = (struct fake_hv_route){ true, addr, data, -1, -1 };
        *gsi = h->gsi_base + i;
        return 0;
    }
    return -ENOSPC;
}

static inline int fake_hv_msi_update(void *o, uint32_t gsi, uint64_t addr,
                                     uint32_t data)
{
    struct fake_hv *h = o;
    struct fake_hv_route *rt;
    int r = fake_hv_enter(h, FAKE_HV_MSI_UPDATE);

    if (r < 0)
        return r;
    rt = fake_hv_route(h, gsi);
    if (!rt)
        return fake_hv_refuse(h, -EINVAL);
    rt->addr = addr;
    rt->data = data;
    return 0;
}

static inline int fake_hv_msi_del(void *o, uint32_t gsi)
{
    struct fake_hv *h = o;
    struct fake_hv_route *rt;
    int r = fake_hv_enter(h, FAKE_HV_MSI_DEL);

    if (r < 0)
        return r;
    rt = fake_hv_route(h, gsi);
    if (!rt)
        return fake_hv_refuse(h, -EINVAL);
    if (rt->irqfd >= 0) /* KVM keeps it, but the irqfd would be orphaned */
        return fake_hv_refuse(h, -EBUSY);
    rt->live = false;
    return 0;
}

static inline int fake_hv_irqfd(void *o, int fd, uint32_t gsi,
                                int resample_fd, bool assign)
{
    struct fake_hv *h = o;
    struct fake_hv_route *rt;
    int r = fake_hv_enter(h, FAKE_HV_IRQFD);

    if (r < 0)
        return r;
    rt = fake_hv_route(h, gsi);
    if (!rt || fd < 0)
        return fake_hv_refuse(h, -EINVAL);
    if (!assign) {
        if (rt->irqfd != fd)
            return fake_hv_refuse(h, -ENOENT);
        rt->irqfd = rt->resample_fd = -1;
        return 0;
    }
    for (unsigned int i = 0; i < FAKE_HV_MAX; i++)
        if (h->route[i].live && h->route[i].irqfd == fd)
            return fake_hv_refuse(h, -EBUSY);
    if (rt->irqfd >= 0)
        return fake_hv_refuse(h, -EBUSY);
    rt->irqfd = fd;
    rt->resample_fd = resample_fd;
    return 0;
}

static inline int fake_hv_find_ioev(const struct fake_hv *h, uint64_t addr,
                                    uint32_t len, bool pio, bool dm,
                                    uint64_t data)
{
    for (unsigned int i = 0; i < h->nioev; i++) {
        const struct fake_hv_ioev *e = &h->ioev[i];

        if (e->addr == addr && e->len == len && e->pio == pio &&
            e->datamatch == dm && (!dm || e->data == data))
            return (int)i;
    }
    return -1;
}

static inline int fake_hv_ioeventfd(void *o, int fd, uint64_t addr,
                                    uint32_t len, bool pio, bool dm,
                                    uint64_t data, bool assign)
{
    struct fake_hv *h = o;
    int r = fake_hv_enter(h, FAKE_HV_IOEVENTFD), i;

    if (r < 0)
        return r;
    if (fd < 0 || (len != 0 && len != 1 && len != 2 && len != 4 && len != 8))
        return fake_hv_refuse(h, -EINVAL);
    i = fake_hv_find_ioev(h, addr, len, pio, dm, data);
    if (!assign) {
        if (i < 0 || h->ioev[i].fd != fd)
            return fake_hv_refuse(h, -ENOENT);
        h->ioev[i] = h->ioev[--h->nioev];
        return 0;
    }
    if (i >= 0)
        return fake_hv_refuse(h, -EEXIST);
    if (h->nioev == FAKE_HV_MAX)
        return -ENOSPC;
    h->ioev[h->nioev++] = (struct fake_hv_ioev){ fd, addr, len, pio, dm,
                                                 data };
    return 0;
}

static inline int fake_hv_memslot_add(void *o, uint64_t gpa, uint64_t size,
                                      void *hva, bool readonly,
                                      uint32_t *slot)
{
    struct fake_hv *h = o;
    int r = fake_hv_enter(h, FAKE_HV_MEMSLOT_ADD), free_i = -1;

    if (r < 0)
        return r;
    if (size == 0 || (gpa | size | (uint64_t)(uintptr_t)hva) & 0xfff ||
        gpa + size < gpa)
        return fake_hv_refuse(h, -EINVAL);
    for (int i = FAKE_HV_MAX - 1; i >= 0; i--) {
        const struct fake_hv_slot *s = &h->slot[i];

        if (!s->live)
            free_i = i;
        else if (gpa < s->gpa + s->size && s->gpa < gpa + size)
            return fake_hv_refuse(h, -EEXIST);
    }
    if (free_i < 0)
        return -ENOSPC;
    h->slot[free_i] = (struct fake_hv_slot){ true, gpa, size, hva, readonly };
    *slot = (uint32_t)free_i;
    return 0;
}

static inline int fake_hv_memslot_del(void *o, uint32_t slot)
{
    struct fake_hv *h = o;
    int r = fake_hv_enter(h, FAKE_HV_MEMSLOT_DEL);

    if (r < 0)
        return r;
    if (slot >= FAKE_HV_MAX || !h->slot[slot].live)
        return fake_hv_refuse(h, -EINVAL);
    h->slot[slot].live = false;
    return 0;
}

static const struct hv_ops fake_hv_ops __attribute__((unused)) = {
    .msi_add = fake_hv_msi_add,
    .msi_update = fake_hv_msi_update,
    .msi_del = fake_hv_msi_del,
    .irqfd = fake_hv_irqfd,
    .ioeventfd = fake_hv_ioeventfd,
    .memslot_add = fake_hv_memslot_add,
    .memslot_del = fake_hv_memslot_del,
};

/* The struct hv a device takes, backed by @h. */
static inline struct hv fake_hv(struct fake_hv *h)
{
    return (struct hv){ &fake_hv_ops, h };
}

#endif
