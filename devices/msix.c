/* SPDX-License-Identifier: BSD-3-Clause */
/* MSI-X table/PBA model (see msix.h). */
#include "devices/msix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int msix_init(struct msix *m, unsigned int nvec, const struct msix_ops *ops,
              void *opaque)
{
    memset(m, 0, sizeof(*m));
    if (nvec == 0 || nvec > MSIX_MAX_VECTORS)
        return -EINVAL;
    m->table = calloc(nvec, sizeof(*m->table));
    m->pba = calloc((nvec + 63) / 64, sizeof(*m->pba));
    if (!m->table || !m->pba) {
        free(m->table);
        free(m->pba);
        return -ENOMEM;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->nvec = nvec;
    m->ops = ops;
    m->opaque = opaque;
    for (unsigned int i = 0; i < nvec; i++)
        m->table[i].ctrl = MSIX_ENTRY_MASKED;
    return 0;
}

void msix_fini(struct msix *m)
{
    if (!m->table)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->table);
    free(m->pba);
    m->table = NULL;
    m->pba = NULL;
}

static uint64_t entry_addr(const struct msix_entry *e)
{
    return ((uint64_t)e->addr_hi << 32) | e->addr_lo;
}

static bool is_masked(const struct msix *m, unsigned int vec)
{
    return !m->enabled || m->fmask ||
           (m->table[vec].ctrl & MSIX_ENTRY_MASKED);
}

static bool pending(const struct msix *m, unsigned int vec)
{
    return m->pba[vec / 64] & (1ULL << (vec % 64));
}

static void set_pending(struct msix *m, unsigned int vec, bool on)
{
    if (on)
        m->pba[vec / 64] |= 1ULL << (vec % 64);
    else
        m->pba[vec / 64] &= ~(1ULL << (vec % 64));
}

/* Tell the owner about @vec and deliver it if it became unmasked while
 * pending. Called with the lock held. */
static void update(struct msix *m, unsigned int vec)
{
    const struct msix_entry *e = &m->table[vec];
    bool masked = is_masked(m, vec);

    if (m->ops && m->ops->vector_changed)
        m->ops->vector_changed(m->opaque, vec, entry_addr(e), e->data,
                               masked);
    if (!masked && pending(m, vec)) {
        set_pending(m, vec, false);
        if (m->ops && m->ops->fire)
            m->ops->fire(m->opaque, vec, entry_addr(e), e->data);
    }
}

void msix_reset(struct msix *m)
{
    pthread_mutex_lock(&m->lock);
    m->enabled = m->fmask = false;
    memset(m->pba, 0, (m->nvec + 63) / 64 * sizeof(*m->pba));
    for (unsigned int i = 0; i < m->nvec; i++) {
        m->table[i] = (struct msix_entry){ .ctrl = MSIX_ENTRY_MASKED };
        update(m, i);
    }
    pthread_mutex_unlock(&m->lock);
}

static bool access_ok(uint64_t off, uint32_t len, uint64_t size)
{
    return (len == 4 || len == 8) && off % len == 0 && off < size &&
           len <= size - off;
}

void msix_table_read(struct msix *m, uint64_t off, void *data, uint32_t len)
{
    memset(data, 0, len);
    if (!access_ok(off, len, msix_table_size(m)))
        return;
    pthread_mutex_lock(&m->lock);
    memcpy(data, (uint8_t *)m->table + off, len);
    pthread_mutex_unlock(&m->lock);
}

void msix_table_write(struct msix *m, uint64_t off, const void *data,
                      uint32_t len)
{
    unsigned int vec = (unsigned int)(off / MSIX_ENTRY_SIZE);
    struct msix_entry *e;
    struct msix_entry old;

    if (!access_ok(off, len, msix_table_size(m)))
        return;
    pthread_mutex_lock(&m->lock);
    e = &m->table[vec];
    old = *e;
    memcpy((uint8_t *)m->table + off, data, len);
    e->ctrl &= MSIX_ENTRY_MASKED; /* other control bits are reserved */
    if (memcmp(&old, e, sizeof(old)))
        update(m, vec);
    pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t off, void *data, uint32_t len)
{
    memset(data, 0, len);
    if (!access_ok(off, len, msix_pba_size(m)))
        return;
    pthread_mutex_lock(&m->lock);
    memcpy(data, (uint8_t *)m->pba + off, len);
    pthread_mutex_unlock(&m->lock);
}

void msix_set_control(struct msix *m, uint16_t ctrl)
{
    bool en = ctrl & MSIX_CTRL_ENABLE, fm = ctrl & MSIX_CTRL_FMASK;

    pthread_mutex_lock(&m->lock);
    if (en != m->enabled || fm != m->fmask) {
        m->enabled = en;
        m->fmask = fm;
        for (unsigned int i = 0; i < m->nvec; i++)
            update(m, i);
    }
    pthread_mutex_unlock(&m->lock);
}

uint16_t msix_control(struct msix *m)
{
    uint16_t v;

    pthread_mutex_lock(&m->lock);
    v = (uint16_t)((m->nvec - 1) | (m->enabled ? MSIX_CTRL_ENABLE : 0) |
                   (m->fmask ? MSIX_CTRL_FMASK : 0));
    pthread_mutex_unlock(&m->lock);
    return v;
}

int msix_notify(struct msix *m, unsigned int vec)
{
    if (vec >= m->nvec)
        return -EINVAL;
    pthread_mutex_lock(&m->lock);
    if (is_masked(m, vec)) {
        set_pending(m, vec, true);
    } else if (m->ops && m->ops->fire) {
        const struct msix_entry *e = &m->table[vec];

        m->ops->fire(m->opaque, vec, entry_addr(e), e->data);
    }
    pthread_mutex_unlock(&m->lock);
    return 0;
}

bool msix_masked(struct msix *m, unsigned int vec, uint64_t *addr,
                 uint32_t *data)
{
    bool masked = true;

    if (vec >= m->nvec)
        return true;
    pthread_mutex_lock(&m->lock);
    masked = is_masked(m, vec);
    if (addr)
        *addr = entry_addr(&m->table[vec]);
    if (data)
        *data = m->table[vec].data;
    pthread_mutex_unlock(&m->lock);
    return masked;
}

uint32_t msix_table_size(const struct msix *m)
{
    return m->nvec * MSIX_ENTRY_SIZE;
}

uint32_t msix_pba_size(const struct msix *m)
{
    return (m->nvec + 63) / 64 * 8;
}
