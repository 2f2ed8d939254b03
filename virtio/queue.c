/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueues, device side (see queue.h; virtio 1.x section 2.7). */
#include "virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtio/queue_fetch.h"
#include "vmm/state.h"

#define DESC_SIZE 16u

/* Ring geometry (spec 2.7: "Virtqueue Alignment" and layout). */
static uint64_t avail_bytes(uint16_t size)
{
    return 6 + 2ULL * size;    /* flags, idx, ring[size], used_event */
}

static uint64_t used_bytes(uint16_t size)
{
    return 6 + 8ULL * size;    /* flags, idx, ring[size], avail_event */
}

static bool is_pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

/* --- little-endian ring fields ---------------------------------------- */

static int ring_read16(struct virtq *q, uint64_t gpa, uint16_t *v,
                       bool acquire)
{
    uint16_t *p = virtio_mem_translate(q->mem, gpa, 2, false);
    uint16_t raw;
    int r;

    if (p) {
        raw = __atomic_load_n(p, acquire ? __ATOMIC_ACQUIRE
                                         : __ATOMIC_RELAXED);
    } else {
        r = virtio_mem_read(q->mem, gpa, &raw, sizeof(raw));
        if (r < 0)
            return r;
        if (acquire)
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
    }
    *v = le16toh(raw);
    return 0;
}

static int ring_write16(struct virtq *q, uint64_t gpa, uint16_t v,
                        bool release)
{
    uint16_t *p = virtio_mem_translate(q->mem, gpa, 2, true);
    uint16_t raw = htole16(v);

    if (p) {
        __atomic_store_n(p, raw, release ? __ATOMIC_RELEASE
                                         : __ATOMIC_RELAXED);
        /* Dirty after the store too (see virtio_mem_write()). */
        virtio_mem_mark_dirty(q->mem, gpa, 2);
        return 0;
    }
    if (release)
        __atomic_thread_fence(__ATOMIC_RELEASE);
    return virtio_mem_write(q->mem, gpa, &raw, sizeof(raw));
}

static uint64_t used_event_gpa(const struct virtq *q)
{
    return q->avail_gpa + 4 + 2ULL * q->size;
}

static uint64_t avail_event_gpa(const struct virtq *q)
{
    return q->used_gpa + 4 + 8ULL * q->size;
}

/* Latch the queue broken; @what says what failed (for the log line of
 * DEVICE_NEEDS_RESET, virtio_dev_queue_failed()). The first cause stays. */
static int broken(struct virtq *q, int err, const char *what)
{
    if (!q->broken) {
        q->broken_why = what;
        q->broken_err = err;
    }
    q->broken = true;
    return err;
}

/* --- configuration ---------------------------------------------------- */

int virtq_init(struct virtq *q, const struct virtio_mem *mem,
               uint16_t max_size)
{
    if (!is_pow2(max_size) || max_size > VIRTQ_MAX_SIZE)
        return -EINVAL;
    memset(q, 0, sizeof(*q));
    q->mem = mem;
    q->max_size = max_size;
    virtq_reset(q);
    return 0;
}

void virtq_reset(struct virtq *q)
{
    const struct virtio_mem *mem = q->mem;
    uint16_t max_size = q->max_size;
    struct vring_desc *snap = q->desc_snap;
    uint32_t snap_cap = q->desc_snap_cap;
    struct virtq_msg *msg = q->msg;

    memset(q, 0, sizeof(*q));
    q->mem = mem;
    q->max_size = max_size;
    q->desc_snap = snap;
    q->desc_snap_cap = snap_cap;
    q->msg = msg;
    virtq_msg_invalidate(q);
    q->size = max_size;         /* spec 4.1.4.3: queue_size reads the max */
    q->notify_enabled = true;
}

int virtq_set_size(struct virtq *q, uint16_t size)
{
    if (q->enabled)
        return -EBUSY;
    if (!is_pow2(size) || size > q->max_size)
        return -EINVAL;
    q->size = size;
    return 0;
}

int virtq_set_addrs(struct virtq *q, uint64_t desc_gpa, uint64_t avail_gpa,
                    uint64_t used_gpa)
{
    if (q->enabled)
        return -EBUSY;
    q->desc_gpa = desc_gpa;
    q->avail_gpa = avail_gpa;
    q->used_gpa = used_gpa;
    return 0;
}

void virtq_set_features(struct virtq *q, uint64_t features)
{
    q->event_idx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
    q->indirect = features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
}

static bool range_ok(const struct virtq *q, uint64_t gpa, uint64_t len)
{
    if (gpa + len < gpa)
        return false;
    if (!virtio_mem_can_translate(q->mem))
        return true;        /* message-based: checked on each access */
    /* Mixed memory (vfio-user maps with and without fds): a range that
     * does not translate may still be reachable through the copy ops. */
    return virtio_mem_translate(q->mem, gpa, len, false) != NULL ||
           q->mem->ops->read != NULL;
}

static int check_rings(const struct virtq *q)
{
    if (!is_pow2(q->size) || q->size > q->max_size)
        return -EINVAL;
    if (q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4)
        return -EINVAL;
    if (!range_ok(q, q->desc_gpa, (uint64_t)q->size * DESC_SIZE) ||
        !range_ok(q, q->avail_gpa, avail_bytes(q->size)) ||
        !range_ok(q, q->used_gpa, used_bytes(q->size)))
        return -EFAULT;
    return 0;
}

int virtq_enable(struct virtq *q)
{
    int r = check_rings(q);

    if (r < 0)
        return r;
    q->enabled = true;
    q->broken = false;
    q->broken_why = NULL;
    q->broken_err = 0;
    q->notify_enabled = true;
    q->signalled_used_valid = false;
    q->avail_seen = 0;
    q->nheads = 0;
    q->snap_n = 0;
    virtq_msg_invalidate(q);
    return 0;
}

/* --- popping chains --------------------------------------------------- */

#define DESC_BLOCK 4u   /* descriptors per read without translate */

/* A descriptor table being walked: the ring's, or an indirect one. */
struct desc_table {
    const struct vring_desc *host;  /* translated, or NULL */
    uint64_t gpa;
    uint32_t n;                     /* entries */
    bool indirect;
    /* Without translate (message-based DMA) descriptors are read
     * DESC_BLOCK at a time: chains are mostly consecutive entries, and
     * entries read along that are not in the chain are never used. Valid
     * for this walk only: [first, first + nblock). */
    struct vring_desc block[DESC_BLOCK];
    uint32_t first, nblock;
};

static int read_desc(struct virtq *q, struct desc_table *t,
                     uint32_t i, struct vring_desc *d)
{
    uint32_t n;
    int r;

    if (t->host) {
        memcpy(d, &t->host[i], sizeof(*d));
    } else {
        if (i < t->first || i - t->first >= t->nblock) {
            n = t->n - i < DESC_BLOCK ? t->n - i : DESC_BLOCK;
            r = virtio_mem_read(q->mem, t->gpa + (uint64_t)i * DESC_SIZE,
                                t->block, n * DESC_SIZE);
            if (r < 0)
                return r;
            t->first = i;
            t->nblock = n;
        }
        memcpy(d, &t->block[i - t->first], sizeof(*d));
    }
    d->addr = le64toh(d->addr);
    d->len = le32toh(d->len);
    d->flags = le16toh(d->flags);
    d->next = le16toh(d->next);
    return 0;
}

static int add_seg(struct virtq *q, struct virtq_elem *e,
                   const struct vring_desc *d)
{
    bool write = d->flags & VRING_DESC_F_WRITE;
    struct virtq_seg *s;

    if (!write && e->in_bytes)
        return -EINVAL;     /* spec 2.7.4.2: readable after writable */
    if (d->len == 0)
        return 0;
    if (e->out_bytes + e->in_bytes + d->len > VIRTQ_MAX_CHAIN_BYTES)
        return -E2BIG;
    if (!range_ok(q, d->addr, d->len))
        return -EFAULT;
    if (write)
        e->in_bytes += d->len;
    else
        e->out_bytes += d->len;
    e->last.gpa = d->addr;
    e->last.len = d->len;
    e->last.write = write;
    if (e->nsegs == e->max_segs) {
        e->truncated = true;
        return 0;
    }
    s = &e->segs[e->nsegs++];
    s->gpa = d->addr;
    s->len = d->len;
    s->write = write;
    if (!write)
        e->nout++;
    return 0;
}

static int open_indirect(struct virtq *q, const struct desc_table *cur,
                         const struct vring_desc *d, struct desc_table *t)
{
    if (!q->indirect || cur->indirect || (d->flags & VRING_DESC_F_NEXT))
        return -EINVAL;     /* spec 2.7.5.3.1 */
    if (d->len == 0 || d->len % DESC_SIZE ||
        d->len / DESC_SIZE > VIRTQ_MAX_SIZE)
        return -EINVAL;
    if (!range_ok(q, d->addr, d->len))
        return -EFAULT;
    t->gpa = d->addr;
    t->n = d->len / DESC_SIZE;
    t->indirect = true;
    t->nblock = 0;
    t->host = virtio_mem_translate(q->mem, t->gpa, d->len, false);
    return 0;
}

/* Walk from entry @i of @t; descends into at most one indirect table. */
static int walk_chain(struct virtq *q, struct virtq_elem *e,
                      struct desc_table *t, uint32_t i)
{
    struct vring_desc d;
    uint32_t steps = 0;
    int r;

    for (;;) {
        if (++steps > t->n)
            return -ELOOP;
        r = read_desc(q, t, i, &d);
        if (r < 0)
            return r;
        if (d.flags & VRING_DESC_F_INDIRECT) {
            r = open_indirect(q, t, &d, t);
            if (r < 0)
                return r;
            i = 0;
            steps = 0;
            continue;
        }
        r = add_seg(q, e, &d);
        if (r < 0)
            return r;
        if (!(d.flags & VRING_DESC_F_NEXT))
            return 0;
        if (d.next >= t->n)
            return -EINVAL;
        i = d.next;
    }
}

static int avail_pending(struct virtq *q, uint16_t *pending)
{
    uint16_t idx;
    int r = ring_read16(q, q->avail_gpa + 2, &idx, true);

    if (r < 0)
        return r;
    *pending = (uint16_t)(idx - q->last_avail_idx);
    if (*pending > q->size)
        return -EINVAL;     /* driver moved idx by more than the ring */
    q->avail_seen = *pending;
    return 0;
}

/* The head of the next available chain (@pending are available). With
 * translate, read in place; without, entries come VIRTQ_HEAD_CACHE at a
 * time (entries the driver published stay as they are until used). */
static int avail_head(struct virtq *q, uint16_t pending, uint16_t *head)
{
    uint16_t slot = q->last_avail_idx & (q->size - 1), n, i;
    int r;

    if (virtio_mem_translate(q->mem, q->avail_gpa + 4 + 2ULL * slot, 2,
                             false))
        return ring_read16(q, q->avail_gpa + 4 + 2ULL * slot, head, false);
    i = (uint16_t)(q->last_avail_idx - q->heads_first);
    if (i >= q->nheads) {
        n = pending < VIRTQ_HEAD_CACHE ? pending : VIRTQ_HEAD_CACHE;
        if (n > q->size - slot)
            n = (uint16_t)(q->size - slot);  /* up to the ring's end */
        r = virtio_mem_read(q->mem, q->avail_gpa + 4 + 2ULL * slot,
                            q->heads, 2ULL * n);
        if (r < 0)
            return r;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        q->heads_first = q->last_avail_idx;
        q->nheads = n;
        i = 0;
    }
    *head = le16toh(q->heads[i]);
    return 0;
}

/* Without translate: with several chains pending (@pending from
 * last_avail_idx), walk them from one read of the whole table; their
 * descriptors were written before they were published and stay until
 * they are used, so the copy is good for every one of them. */
static int desc_snapshot(struct virtq *q, uint16_t pending,
                         struct desc_table *t)
{
    uint64_t bytes = (uint64_t)q->size * DESC_SIZE;
    uint16_t i = (uint16_t)(q->last_avail_idx - q->snap_first);
    int r;

    if (!q->desc_snap || q->desc_snap_cap < bytes)
        return 0;
    if (i >= q->snap_n) {
        if (pending < 2)
            return 0;  /* one chain: DESC_BLOCK reads are cheaper */
        r = virtio_mem_read(q->mem, q->desc_gpa, q->desc_snap, bytes);
        if (r < 0)
            return r;
        q->snap_first = q->last_avail_idx;
        q->snap_n = pending;
    }
    t->host = q->desc_snap;
    return 0;
}

/* Chains seen available stay so: read avail->idx only when they are
 * used up (one ring access per batch, not per chain). With message
 * batching (queue_fetch.h) a fetch reads the entries and table too; and
 * with notifications kept on and no event-idx, one fetch per doorbell is
 * enough: the driver kicks after publishing (spec 2.7.10.1: used->flags
 * stays 0), so chains it adds later come with a new doorbell. */
static int avail_refresh(struct virtq *q, bool msg, uint16_t *pending)
{
    *pending = q->avail_seen;
    if (*pending)
        return 0;
    if (!msg)
        return avail_pending(q, pending);
    if (q->msg->fetched && q->notify_kept && !q->event_idx)
        return 0;
    return virtq_fetch(q, pending);
}

static int write_avail_event(struct virtq *q, bool msg)
{
    uint16_t raw = htole16(q->last_avail_idx);

    if (!msg)
        return ring_write16(q, avail_event_gpa(q), q->last_avail_idx, false);
    /* Posted: flushed before the next index read (virtq_fetch()). */
    return virtio_mem_write_posted(q->mem, avail_event_gpa(q), &raw, 2);
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
    struct desc_table t = { 0 };
    uint16_t pending, head;
    bool msg;
    int r;

    if (q->broken)
        return -EIO;
    if (!q->enabled)
        return 0;
    msg = virtq_msg_usable(q);
    r = avail_refresh(q, msg, &pending);
    if (r < 0)
        return broken(q, r, "reading the available ring index");
    if (!pending)
        return 0;
    r = msg && virtq_msg_head(q, &head) ? 0 : avail_head(q, pending, &head);
    if (r < 0)
        return broken(q, r, "reading the available ring");
    if (head >= q->size)
        return broken(q, -EINVAL, "available ring head beyond the queue");
    e->head = head;
    e->nsegs = e->nout = 0;
    e->out_bytes = e->in_bytes = 0;
    e->truncated = false;
    e->last.len = 0;
    t.gpa = q->desc_gpa;
    t.n = q->size;
    t.host = virtio_mem_translate(q->mem, t.gpa,
                                  (uint64_t)t.n * DESC_SIZE, false);
    if (!t.host) {
        r = desc_snapshot(q, pending, &t);
        if (r < 0)
            return broken(q, r, "reading the descriptor table");
    }
    r = walk_chain(q, e, &t, head);
    if (r < 0)
        return broken(q, r, "malformed or unreadable descriptor chain");
    e->has_prefix = false;
    if (msg)
        virtq_msg_take_prefix(q, e);
    q->last_avail_idx++;
    q->avail_seen--;
    if (q->event_idx && q->notify_enabled) {
        r = write_avail_event(q, msg);
        if (r < 0)
            return broken(q, r, "writing avail_event");
    }
    return 1;
}

/* --- used ring and notifications -------------------------------------- */

/* Used element used_idx = (@head, @len) (virtio 1.x 2.7.8); 0 or -errno. */
static int write_used_elem(struct virtq *q, uint16_t head, uint32_t len,
                           bool posted)
{
    struct vring_used_elem ue = {.id = htole32(head), .len = htole32(len)};
    uint64_t gpa = q->used_gpa + 4 + 8ULL * (q->used_idx & (q->size - 1));
    int r = posted ? virtio_mem_write_posted(q->mem, gpa, &ue, sizeof(ue))
                   : virtio_mem_write(q->mem, gpa, &ue, sizeof(ue));

    return r < 0 ? broken(q, r, "writing a used ring element") : 0;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
    int r;

    if (q->broken)
        return -EIO;
    if (!q->enabled)
        return -EINVAL;
    /* Staged elements (virtq_push_deferred()) land before this index. */
    r = virtq_msg_post_used(q);
    if (r == 0 && q->unpublished)
        r = virtio_mem_flush(q->mem);
    if (r < 0)
        return broken(q, r, "writing used ring elements");
    r = write_used_elem(q, head, len, false);
    if (r < 0)
        return r;
    q->used_idx++;
    r = ring_write16(q, q->used_gpa + 2, q->used_idx, true);
    if (r < 0)
        return broken(q, r, "writing the used ring index");
    return 0;
}

int virtq_push_deferred(struct virtq *q, uint16_t head, uint32_t len)
{
    int r;

    if (q->broken)
        return -EIO;
    if (!q->enabled)
        return -EINVAL;
    /* Message batching: staged, one write per run at virtq_publish(). */
    if (!virtq_msg_stage_used(q, q->used_idx, head, len)) {
        r = write_used_elem(q, head, len, true);
        if (r < 0)
            return r;
    }
    q->used_idx++;
    q->unpublished = true;
    return 0;
}

int virtq_publish(struct virtq *q)
{
    int r;

    if (!q->unpublished)
        return 0;
    q->unpublished = false;
    if (q->broken)
        return -EIO;
    r = virtq_msg_post_used(q);
    if (r < 0) {
        virtio_mem_flush(q->mem);
        return broken(q, r, "writing used ring elements");
    }
    r = virtio_mem_flush(q->mem);
    if (r < 0)
        return broken(q, r, "writing used ring elements");
    r = !q->event_idx ? virtq_msg_publish_idx(q) : 1;
    if (r > 0)
        r = ring_write16(q, q->used_gpa + 2, q->used_idx, true);
    if (r < 0)
        return broken(q, r, "writing the used ring index");
    return 0;
}

bool virtq_need_notify(struct virtq *q)
{
    uint16_t v, old;
    bool valid;

    if (!q->enabled || q->broken)
        return false;
    /* The used idx store must be visible before we read the driver's
     * suppression fields (spec 2.7.7.1, pairs with the driver's fence). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx) {
        /* message batching: the area read with the index may do (if it
         * wants interrupts); else the whole driver area, kept for a fetch */
        if (virtq_msg_spec_wants_irq(q))
            return true;
        if (virtq_msg_usable(q) ? virtq_msg_read_area(q, &v) < 0
                                : ring_read16(q, q->avail_gpa, &v, false) < 0)
            return true;
        return !(v & VRING_AVAIL_F_NO_INTERRUPT);
    }
    old = q->signalled_used;
    valid = q->signalled_used_valid;
    q->signalled_used = q->used_idx;
    q->signalled_used_valid = true;
    if (!valid)
        return true;
    if (ring_read16(q, used_event_gpa(q), &v, false) < 0)
        return true;
    return vring_need_event(v, q->used_idx, old);
}

static void set_used_flags(struct virtq *q, bool no_notify)
{
    uint16_t flags = no_notify ? VRING_USED_F_NO_NOTIFY : 0;

    if (ring_write16(q, q->used_gpa, flags, false) < 0)
        broken(q, -EFAULT, "writing the used ring flags");
}

void virtq_disable_notify(struct virtq *q)
{
    if (!q->enabled || q->broken || !q->notify_enabled)
        return;
    /* Message-based DMA: a kick costs the driver less than the two ring
     * round trips of suppressing it (the flags write, and the write and
     * avail re-read of virtq_enable_notify()): leave notifications on.
     * The pops until empty end on a fresh read of avail->idx, and a
     * chain added after it comes with a kick. */
    if (!virtio_mem_translate(q->mem, q->used_gpa, 2, true)) {
        q->notify_kept = true;
        if (q->msg)
            q->msg->fetched = false;    /* a new doorbell: fetch again */
        return;
    }
    q->notify_enabled = false;
    if (!q->event_idx)
        set_used_flags(q, true);
}

bool virtq_enable_notify(struct virtq *q)
{
    if (!q->enabled || q->broken)
        return false;
    if (q->notify_kept) {   /* never turned off (virtq_disable_notify()) */
        q->notify_kept = false;
        return false;
    }
    q->notify_enabled = true;
    if (!q->event_idx)
        set_used_flags(q, false);
    else if (ring_write16(q, avail_event_gpa(q), q->last_avail_idx,
                          false) < 0)
        broken(q, -EFAULT, "writing avail_event");
    /* Publish the request before re-checking avail idx (spec 2.7.10). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return virtq_has_avail(q);
}

bool virtq_has_avail(struct virtq *q)
{
    uint16_t pending;

    if (!q->enabled)
        return false;
    if (q->broken)
        return true;
    if (avail_pending(q, &pending) < 0)
        return true;        /* let virtq_pop() report it */
    return pending != 0;
}

/* --- chain contents --------------------------------------------------- */

int virtq_elem_walk(const struct virtq_elem *e, bool write, uint64_t off,
                    uint64_t len,
                    int (*fn)(void *opaque, uint64_t gpa, uint64_t n),
                    void *opaque)
{
    uint64_t n;
    int r;

    for (unsigned int i = 0; i < e->nsegs && len; i++) {
        const struct virtq_seg *s = &e->segs[i];

        if (s->write != write)
            continue;
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        n = s->len - off < len ? s->len - off : len;
        r = fn(opaque, s->gpa + off, n);
        if (r < 0)
            return r;
        len -= n;
        off = 0;
    }
    return len ? -ERANGE : 0;
}

struct elem_copy {
    const struct virtq *q;
    bool write;
    uint8_t *p;
};

static int copy_piece(void *opaque, uint64_t gpa, uint64_t n)
{
    struct elem_copy *c = opaque;
    int r = c->write ? virtio_mem_write(c->q->mem, gpa, c->p, n)
                     : virtio_mem_read(c->q->mem, gpa, c->p, n);

    c->p += n;
    return r < 0 ? r : 0;
}

static int elem_copy(const struct virtq *q, const struct virtq_elem *e,
                     bool write, uint64_t off, void *buf, uint64_t len)
{
    struct elem_copy c = { .q = q, .write = write, .p = buf };

    return virtq_elem_walk(e, write, off, len, copy_piece, &c);
}

int virtq_elem_read(const struct virtq *q, const struct virtq_elem *e,
                    uint64_t off, void *buf, uint64_t len)
{
    return elem_copy(q, e, false, off, buf, len);
}

int virtq_elem_write(const struct virtq *q, const struct virtq_elem *e,
                     uint64_t off, const void *buf, uint64_t len)
{
    return elem_copy(q, e, true, off, (void *)buf, len);
}

/* --- state ------------------------------------------------------------ */

int virtq_save(const struct virtq *q, void *fdt, int node)
{
    int r;

    r = state_put_u32(fdt, node, "size", q->size);
    if (!r)
        r = state_put_u32(fdt, node, "enabled", q->enabled);
    if (!r)
        r = state_put_u64(fdt, node, "desc-addr", q->desc_gpa);
    if (!r)
        r = state_put_u64(fdt, node, "avail-addr", q->avail_gpa);
    if (!r)
        r = state_put_u64(fdt, node, "used-addr", q->used_gpa);
    if (!r)
        r = state_put_u32(fdt, node, "last-avail-idx", q->last_avail_idx);
    if (!r)
        r = state_put_u32(fdt, node, "used-idx", q->used_idx);
    if (!r)
        r = state_put_u32(fdt, node, "event-idx", q->event_idx);
    if (!r)
        r = state_put_u32(fdt, node, "indirect", q->indirect);
    return r;
}

struct virtq_state {
    uint32_t size, enabled, last_avail, used_idx, event_idx, indirect;
    uint64_t desc, avail, used;
};

static int read_state(const void *fdt, int node, struct virtq_state *s)
{
    int r;

    r = state_get_u32(fdt, node, "size", &s->size);
    if (!r)
        r = state_get_u32(fdt, node, "enabled", &s->enabled);
    if (!r)
        r = state_get_u64(fdt, node, "desc-addr", &s->desc);
    if (!r)
        r = state_get_u64(fdt, node, "avail-addr", &s->avail);
    if (!r)
        r = state_get_u64(fdt, node, "used-addr", &s->used);
    if (!r)
        r = state_get_u32(fdt, node, "last-avail-idx", &s->last_avail);
    if (!r)
        r = state_get_u32(fdt, node, "used-idx", &s->used_idx);
    if (!r)
        r = state_get_u32(fdt, node, "event-idx", &s->event_idx);
    if (!r)
        r = state_get_u32(fdt, node, "indirect", &s->indirect);
    return r;
}

int virtq_load(struct virtq *q, const void *fdt, int node)
{
    struct virtq_state s;
    struct virtq tmp = *q;
    int r = read_state(fdt, node, &s);

    if (r < 0)
        return r;
    if (s.enabled > 1 || s.event_idx > 1 || s.indirect > 1 ||
        s.last_avail > UINT16_MAX || s.used_idx > UINT16_MAX ||
        !is_pow2(s.size) || s.size > q->max_size)
        return -EINVAL;
    virtq_reset(&tmp);
    tmp.size = (uint16_t)s.size;
    tmp.desc_gpa = s.desc;
    tmp.avail_gpa = s.avail;
    tmp.used_gpa = s.used;
    tmp.last_avail_idx = (uint16_t)s.last_avail;
    tmp.used_idx = (uint16_t)s.used_idx;
    tmp.event_idx = s.event_idx;
    tmp.indirect = s.indirect;
    if (s.enabled) {
        r = check_rings(&tmp);
        if (r < 0)
            return r;
        tmp.enabled = true;
    }
    *q = tmp;
    return 0;
}
