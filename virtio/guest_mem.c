/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest-memory access for virtio device models (see guest_mem.h). */
#include "virtio/guest_mem.h"

#include <errno.h>
#include <string.h>

#include "vmm/memory.h"

#define FLAT_PAGE_SHIFT 12
#define BITS_PER_LONG   (8 * sizeof(unsigned long))

void *virtio_mem_translate(const struct virtio_mem *m, uint64_t gpa,
                           uint64_t len, bool write)
{
    if (!m->ops->translate || gpa + len < gpa)
        return NULL;
    return m->ops->translate(m->opaque, gpa, len, write);
}

int virtio_mem_read(const struct virtio_mem *m, uint64_t gpa, void *buf,
                    uint64_t len)
{
    void *p;

    if (m->ops->read)
        return m->ops->read(m->opaque, gpa, buf, len);
    p = virtio_mem_translate(m, gpa, len, false);
    if (!p)
        return -EFAULT;
    memcpy(buf, p, len);
    return 0;
}

int virtio_mem_write(const struct virtio_mem *m, uint64_t gpa,
                     const void *buf, uint64_t len)
{
    void *p;

    if (m->ops->write)
        return m->ops->write(m->opaque, gpa, buf, len);
    p = virtio_mem_translate(m, gpa, len, true);
    if (!p)
        return -EFAULT;
    memcpy(p, buf, len);
    /* Again after the copy: translate marked the pages before it, and a
     * dirty-log harvest in between would have taken the old contents. */
    virtio_mem_mark_dirty(m, gpa, len);
    return 0;
}

void virtio_mem_mark_dirty(const struct virtio_mem *m, uint64_t gpa,
                           uint64_t len)
{
    if (m->ops->mark_dirty && len)
        m->ops->mark_dirty(m->opaque, gpa, len);
}

int virtio_mem_write_posted(const struct virtio_mem *m, uint64_t gpa,
                            const void *buf, uint64_t len)
{
    if (m->ops->write_posted)
        return m->ops->write_posted(m->opaque, gpa, buf, len);
    return virtio_mem_write(m, gpa, buf, len);
}

int virtio_mem_read_posted(const struct virtio_mem *m, uint64_t gpa,
                           void *buf, uint64_t len)
{
    if (m->ops->read_posted)
        return m->ops->read_posted(m->opaque, gpa, buf, len);
    return virtio_mem_read(m, gpa, buf, len);
}

int virtio_mem_flush(const struct virtio_mem *m)
{
    return m->ops->flush ? m->ops->flush(m->opaque) : 0;
}

/* --- flat memory ------------------------------------------------------ */

static uint8_t *flat_ptr(struct virtio_flat_mem *fm, uint64_t gpa,
                         uint64_t len)
{
    uint64_t off;

    if (gpa < fm->gpa || gpa + len < gpa)
        return NULL;
    off = gpa - fm->gpa;
    if (off > fm->size || len > fm->size - off)
        return NULL;
    return fm->base + off;
}

static void flat_mark_dirty(void *opaque, uint64_t gpa, uint64_t len)
{
    struct virtio_flat_mem *fm = opaque;
    uint64_t first, last, pg;

    if (!len || !flat_ptr(fm, gpa, len))
        return;
    first = (gpa - fm->gpa) >> FLAT_PAGE_SHIFT;
    last = (gpa - fm->gpa + len - 1) >> FLAT_PAGE_SHIFT;
    for (pg = first; pg <= last; pg++) {
        fm->dirty_pages++;
        if (fm->dirty_bitmap)
            fm->dirty_bitmap[pg / BITS_PER_LONG] |=
                1UL << (pg % BITS_PER_LONG);
    }
}

static void *flat_translate(void *opaque, uint64_t gpa, uint64_t len,
                            bool write)
{
    struct virtio_flat_mem *fm = opaque;
    uint8_t *p = flat_ptr(fm, gpa, len);

    if (p && write)
        flat_mark_dirty(fm, gpa, len);
    return p;
}

static int flat_read(void *opaque, uint64_t gpa, void *buf, uint64_t len)
{
    struct virtio_flat_mem *fm = opaque;
    uint8_t *p = flat_ptr(fm, gpa, len);

    if (!p)
        return -EFAULT;
    fm->reads++;
    memcpy(buf, p, len);
    return 0;
}

static int flat_write(void *opaque, uint64_t gpa, const void *buf,
                      uint64_t len)
{
    struct virtio_flat_mem *fm = opaque;
    uint8_t *p = flat_ptr(fm, gpa, len);

    if (!p)
        return -EFAULT;
    fm->writes++;
    memcpy(p, buf, len);
    flat_mark_dirty(fm, gpa, len);
    return 0;
}

static const struct virtio_mem_ops flat_shared_ops = {
    .translate = flat_translate,
    .mark_dirty = flat_mark_dirty,
};

static const struct virtio_mem_ops flat_message_ops = {
    .read = flat_read,
    .write = flat_write,
};

void virtio_flat_mem_init(struct virtio_flat_mem *fm, void *base,
                          uint64_t gpa, uint64_t size, bool shared,
                          struct virtio_mem *out)
{
    fm->base = base;
    fm->gpa = gpa;
    fm->size = size;
    fm->dirty_bitmap = NULL;
    fm->dirty_pages = 0;
    fm->reads = 0;
    fm->writes = 0;
    out->ops = shared ? &flat_shared_ops : &flat_message_ops;
    out->opaque = fm;
}

/* --- VMM guest RAM ---------------------------------------------------- */

/* Device writes are logged for migration (memory.h, vmm/dirty.h). */
static void *gm_translate(void *opaque, uint64_t gpa, uint64_t len,
                          bool write)
{
    void *p = guest_memory_hva(opaque, gpa, len);

    if (p && write)
        guest_memory_mark_dirty(opaque, gpa, len);
    return p;
}

static void gm_mark_dirty(void *opaque, uint64_t gpa, uint64_t len)
{
    guest_memory_mark_dirty(opaque, gpa, len);
}

static const struct virtio_mem_ops gm_ops = {
    .translate = gm_translate,
    .mark_dirty = gm_mark_dirty,
};

void virtio_mem_from_guest_memory(const struct guest_memory *gm,
                                  struct virtio_mem *out)
{
    out->ops = &gm_ops;
    out->opaque = (void *)gm;
}
