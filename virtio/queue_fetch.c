/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueues: batching for message-based DMA (see queue_fetch.h;
 * virtio 1.x section 2.7). */
#include "virtio/queue_fetch.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DESC_SIZE 16u

static uint64_t avail_area(uint16_t size)
{
    return 4 + 2ULL * size;     /* flags, idx, ring[size] */
}

int virtq_msg_alloc(struct virtq *q, uint16_t prefix_len)
{
    struct virtq_msg *m;
    uint32_t n = q->max_size;

    if (prefix_len > VIRTQ_PREFIX_MAX || q->msg)
        return -EINVAL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->avail = malloc(avail_area(q->max_size));
    m->pfx = calloc(n, sizeof(*m->pfx));
    m->pfx_gpa = calloc(n, sizeof(*m->pfx_gpa));
    m->pfx_round = calloc(n, sizeof(*m->pfx_round));
    m->used = calloc(n, sizeof(*m->used));
    if (!q->desc_snap) {
        q->desc_snap = calloc(n, DESC_SIZE);
        q->desc_snap_cap = q->desc_snap ? n * DESC_SIZE : 0;
    }
    m->cap = q->max_size;
    m->prefix_len = prefix_len;
    q->msg = m;
    if (!m->avail || !m->pfx || !m->pfx_gpa || !m->pfx_round || !m->used ||
        !q->desc_snap) {
        virtq_msg_free(q);
        return -ENOMEM;
    }
    return 0;
}

void virtq_msg_free(struct virtq *q)
{
    struct virtq_msg *m = q->msg;

    free(q->desc_snap);
    q->desc_snap = NULL;
    q->desc_snap_cap = 0;
    if (!m)
        return;
    free(m->avail);
    free(m->pfx);
    free(m->pfx_gpa);
    free(m->pfx_round);
    free(m->used);
    free(m);
    q->msg = NULL;
}

void virtq_msg_invalidate(struct virtq *q)
{
    struct virtq_msg *m = q->msg;

    if (!m)
        return;
    m->ring_n = 0;
    m->used_n = 0;
    m->desc_valid = false;
    m->fetched = false;
    m->area_ready = false;
    m->area_spec = false;
    if (++m->round == 0)
        m->round = 1;
}

bool virtq_msg_usable(const struct virtq *q)
{
    const struct virtq_msg *m = q->msg;

    return m && m->cap >= q->size &&
           q->desc_snap_cap >= (uint64_t)q->size * DESC_SIZE &&
           !virtio_mem_translate(q->mem, q->avail_gpa, avail_area(q->size),
                                 false) &&
           !virtio_mem_translate(q->mem, q->desc_gpa,
                                 (uint64_t)q->size * DESC_SIZE, false);
}

static uint16_t ring_entry(const struct virtq *q, uint16_t idx)
{
    uint16_t v;

    memcpy(&v, q->msg->avail + 4 + 2 * (idx & (q->size - 1)), sizeof(v));
    return le16toh(v);
}

/* Round 2, part one: the prefix of each of the @n chains at the address
 * the previous table copy gives the head round 1's (unordered) read
 * shows. Only guesses: virtq_msg_take_prefix() checks them. */
static void post_guesses(struct virtq *q, uint16_t n)
{
    struct virtq_msg *m = q->msg;
    unsigned int posted = 0;

    if (!m->prefix_len || !m->desc_valid)
        return;
    for (uint16_t i = 0; i < n && posted < VIRTQ_FETCH_GUESSES; i++) {
        uint16_t g = ring_entry(q, (uint16_t)(q->last_avail_idx + i));
        struct vring_desc d;
        uint64_t addr;

        if (g >= q->size || m->pfx_round[g] == m->round)
            continue;
        memcpy(&d, &q->desc_snap[g], sizeof(d));
        addr = le64toh(d.addr);
        if ((le16toh(d.flags) & (VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE)) ||
            le32toh(d.len) < m->prefix_len || addr + m->prefix_len < addr)
            continue;
        if (virtio_mem_read_posted(q->mem, addr, m->pfx[g],
                                   m->prefix_len) < 0)
            continue;
        m->pfx_gpa[g] = addr;
        m->pfx_round[g] = m->round;
        posted++;
    }
}

/* Round 2: entries, table and guessed prefixes for @n chains, one flush.
 * On failure nothing is kept (the prefixes' round is retired). */
static void fetch_chains(struct virtq *q, uint16_t n)
{
    struct virtq_msg *m = q->msg;
    uint16_t slot = q->last_avail_idx & (q->size - 1);
    uint16_t first = n < q->size - slot ? n : (uint16_t)(q->size - slot);
    bool ok;

    post_guesses(q, n);
    ok = virtio_mem_read_posted(q->mem, q->avail_gpa + 4 + 2ULL * slot,
                                m->avail + 4 + 2 * slot, 2ULL * first) == 0 &&
         (first == n ||
          virtio_mem_read_posted(q->mem, q->avail_gpa + 4, m->avail + 4,
                                 2ULL * (n - first)) == 0) &&
         virtio_mem_read_posted(q->mem, q->desc_gpa, q->desc_snap,
                                (uint64_t)q->size * DESC_SIZE) == 0;
    if (virtio_mem_flush(q->mem) < 0 || !ok) {
        m->desc_valid = false;
        if (++m->round == 0)
            m->round = 1;
        return;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    m->ring_first = q->last_avail_idx;
    m->ring_n = n;
    q->snap_first = q->last_avail_idx;
    q->snap_n = n;
    m->desc_valid = true;
}

int virtq_fetch(struct virtq *q, uint16_t *pending)
{
    struct virtq_msg *m = q->msg;
    uint16_t idx, n;
    int r;

    m->ring_n = 0;
    q->snap_n = 0;
    q->nheads = 0;
    if (++m->round == 0)
        m->round = 1;
    if (m->area_ready) {
        /* read just now by virtq_need_notify(): round 1 is done */
        m->area_ready = false;
    } else {
        /* Posted writes first (avail_event): the index read after. */
        r = virtio_mem_flush(q->mem);
        if (r == 0)
            r = virtio_mem_read(q->mem, q->avail_gpa, m->avail,
                                avail_area(q->size));
        if (r < 0)
            return r;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&idx, m->avail + 2, sizeof(idx));
    n = (uint16_t)(le16toh(idx) - q->last_avail_idx);
    if (n > q->size)
        return -EINVAL;     /* driver moved idx by more than the ring */
    q->avail_seen = n;
    *pending = n;
    m->fetched = true;
    if (n)
        fetch_chains(q, n);
    return 0;
}

int virtq_msg_read_area(struct virtq *q, uint16_t *flags)
{
    struct virtq_msg *m = q->msg;
    uint16_t v;
    int r;

    m->area_ready = false;
    r = virtio_mem_read(q->mem, q->avail_gpa, m->avail,
                        avail_area(q->size));
    if (r < 0)
        return r;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&v, m->avail, sizeof(v));
    *flags = le16toh(v);
    m->no_irq = *flags & VRING_AVAIL_F_NO_INTERRUPT;
    m->area_ready = true;
    return 0;
}

int virtq_msg_publish_idx(struct virtq *q)
{
    struct virtq_msg *m = q->msg;
    uint16_t raw = htole16(q->used_idx);
    int r, e;

    if (!virtq_msg_usable(q))
        return 1;
    m->area_spec = m->area_ready = false;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    r = virtio_mem_write_posted(q->mem, q->used_gpa + 2, &raw, sizeof(raw));
    e = m->no_irq ? 1
                  : virtio_mem_read_posted(q->mem, q->avail_gpa, m->avail,
                                           avail_area(q->size));
    if (virtio_mem_flush(q->mem) < 0 && !r)
        r = -EIO;
    if (r < 0)
        return r;
    m->area_spec = e == 0;
    return 0;
}

bool virtq_msg_spec_wants_irq(struct virtq *q)
{
    struct virtq_msg *m = q->msg;
    uint16_t v;

    if (!m || !m->area_spec)
        return false;
    m->area_spec = false;
    memcpy(&v, m->avail, sizeof(v));
    m->no_irq = le16toh(v) & VRING_AVAIL_F_NO_INTERRUPT;
    if (m->no_irq)
        return false;
    m->area_ready = true;
    return true;
}

bool virtq_msg_area_new(struct virtq *q)
{
    struct virtq_msg *m = q->msg;
    uint16_t idx, n;

    if (!m || !m->area_ready)
        return false;
    memcpy(&idx, m->avail + 2, sizeof(idx));
    n = (uint16_t)(le16toh(idx) - q->last_avail_idx);
    if (n && n <= q->size && !q->avail_seen && q->enabled && !q->broken)
        return true;
    m->area_ready = false;
    return false;
}

void virtq_msg_drop_area(struct virtq *q)
{
    if (q->msg)
        q->msg->area_ready = false;
}

bool virtq_msg_head(const struct virtq *q, uint16_t *head)
{
    const struct virtq_msg *m = q->msg;

    if (!m || (uint16_t)(q->last_avail_idx - m->ring_first) >= m->ring_n)
        return false;
    *head = ring_entry(q, q->last_avail_idx);
    return true;
}

void virtq_msg_take_prefix(struct virtq *q, struct virtq_elem *e)
{
    struct virtq_msg *m = q->msg;
    uint16_t h = e->head;

    e->has_prefix = false;
    if (!m || !m->prefix_len || h >= m->cap || m->pfx_round[h] != m->round ||
        !e->nsegs || e->segs[0].write || e->segs[0].len < m->prefix_len ||
        e->segs[0].gpa != m->pfx_gpa[h])
        return;
    memcpy(e->prefix, m->pfx[h], m->prefix_len);
    m->pfx_round[h] = 0;    /* once: the head comes back with new data */
    e->has_prefix = true;
}

bool virtq_msg_stage_used(struct virtq *q, uint16_t idx, uint16_t head,
                          uint32_t len)
{
    struct virtq_msg *m = q->msg;

    if (!virtq_msg_usable(q) || m->used_n >= q->size ||
        (m->used_n && (uint16_t)(m->used_first + m->used_n) != idx))
        return false;
    if (!m->used_n)
        m->used_first = idx;
    m->used[m->used_n].id = htole32(head);
    m->used[m->used_n].len = htole32(len);
    m->used_n++;
    return true;
}

int virtq_msg_post_used(struct virtq *q)
{
    struct virtq_msg *m = q->msg;
    uint16_t slot, first, n;
    uint64_t ring = q->used_gpa + 4;
    int r;

    if (!m || !m->used_n)
        return 0;
    n = m->used_n;
    m->used_n = 0;
    slot = m->used_first & (q->size - 1);
    first = n < q->size - slot ? n : (uint16_t)(q->size - slot);
    r = virtio_mem_write_posted(q->mem, ring + 8ULL * slot, m->used,
                                8ULL * first);
    if (r == 0 && first < n)
        r = virtio_mem_write_posted(q->mem, ring, m->used + first,
                                    8ULL * (n - first));
    return r;
}
