/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest-memory access for virtio device models.
 *
 * The same device code (virtio/queue.c, virtio/blk.c) runs inside the VMM,
 * where guest RAM is a local mapping, and inside a vfio-user server, where
 * guest RAM is either shared (DMA_MAP with an fd: translate works) or not
 * shared at all (dma=message: every access is a DMA_READ/DMA_WRITE message).
 * Devices therefore never touch guest memory except through this interface.
 *
 * Not to be confused with the virtio-mem device (<linux/virtio_mem.h>).
 *
 * All addresses are guest-physical (or IOVA, on the server side) in bytes.
 */
#ifndef MINIVMM_VIRTIO_GUEST_MEM_H
#define MINIVMM_VIRTIO_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_memory;

struct virtio_mem_ops {
    /* Host pointer for [@gpa, @gpa + @len) if the whole range is mapped
     * contiguously, else NULL. @write says the device will write through
     * the pointer (the implementation marks those pages dirty for
     * migration dirty logging). Optional: NULL when nothing is shared
     * (message-based DMA); then read and write are required. */
    void *(*translate)(void *opaque, uint64_t gpa, uint64_t len, bool write);
    /* Copy @len bytes guest→host / host→guest. 0 or -errno (-EFAULT for an
     * unmapped range). Optional when translate is set. */
    int (*read)(void *opaque, uint64_t gpa, void *buf, uint64_t len);
    int (*write)(void *opaque, uint64_t gpa, const void *buf, uint64_t len);
    /* Mark [@gpa, @gpa + @len) dirty again. Devices call it when a write
     * through a translated pointer completes later than the translate
     * call (asynchronous I/O), so a dirty-log harvest in between does not
     * lose the page. Optional. */
    void (*mark_dirty)(void *opaque, uint64_t gpa, uint64_t len);
    /* Optional pair for message-based DMA: write_posted is write that
     * may return before the bytes reached guest memory (@buf may be
     * reused on return); flush waits until every posted write is done
     * and returns 0 or the first failure, -errno. Without them posted
     * writes are plain writes and flush does nothing. */
    int (*write_posted)(void *opaque, uint64_t gpa, const void *buf,
                        uint64_t len);
    int (*flush)(void *opaque);
    /* Optional too: read whose data lands in @buf (kept valid) by the
     * next flush; without it, a plain read. */
    int (*read_posted)(void *opaque, uint64_t gpa, void *buf, uint64_t len);
};

struct virtio_mem {
    const struct virtio_mem_ops *ops;
    void *opaque;
};

/* True if virtio_mem_translate() can ever succeed. */
static inline bool virtio_mem_can_translate(const struct virtio_mem *m)
{
    return m->ops->translate != NULL;
}

/* See virtio_mem_ops.translate; NULL also when there is no translate op or
 * the range wraps around the address space. */
void *virtio_mem_translate(const struct virtio_mem *m, uint64_t gpa,
                           uint64_t len, bool write);
/* Copy through the read/write ops, or through translate when those are
 * absent. 0, -EFAULT (range not mapped) or the op's -errno. */
int virtio_mem_read(const struct virtio_mem *m, uint64_t gpa, void *buf,
                    uint64_t len);
int virtio_mem_write(const struct virtio_mem *m, uint64_t gpa,
                     const void *buf, uint64_t len);
void virtio_mem_mark_dirty(const struct virtio_mem *m, uint64_t gpa,
                           uint64_t len);
/* See virtio_mem_ops.write_posted/flush: nothing written posted is
 * certain to be in guest memory before virtio_mem_flush() returns 0, so
 * a write the driver may act on (a used index) goes after a flush. */
int virtio_mem_write_posted(const struct virtio_mem *m, uint64_t gpa,
                            const void *buf, uint64_t len);
int virtio_mem_flush(const struct virtio_mem *m);
int virtio_mem_read_posted(const struct virtio_mem *m, uint64_t gpa,
                           void *buf, uint64_t len);

/* Flat memory for tests and simple servers: @size bytes at @base host
 * address, seen by the device at guest address @gpa. With @shared false
 * the adapter offers no translate op, exercising the message-based DMA
 * (bounce buffer) paths. Dirty pages (4 KiB) are counted in dirty_pages
 * and, if dirty_bitmap is set (one bit per page; assign it after init),
 * recorded there. */
struct virtio_flat_mem {
    uint8_t *base;
    uint64_t gpa;
    uint64_t size;              /* bytes */
    unsigned long *dirty_bitmap;
    uint64_t dirty_pages;       /* number of page-dirtying events */
    uint64_t reads, writes;     /* copy-op calls, for tests */
};

/* Fill @out to access @fm. @fm must outlive @out. */
void virtio_flat_mem_init(struct virtio_flat_mem *fm, void *base,
                          uint64_t gpa, uint64_t size, bool shared,
                          struct virtio_mem *out);

/* Adapter over the VMM's guest RAM (vmm/memory.h): translate and
 * mark_dirty; device writes (translate with @write, mark_dirty) are
 * recorded in the migration dirty bitmap while it is on (KVM logs vCPU
 * writes only). */
void virtio_mem_from_guest_memory(const struct guest_memory *gm,
                                  struct virtio_mem *out);

#endif
