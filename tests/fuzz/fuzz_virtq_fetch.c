/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the split virtqueue's message-DMA batching
 * (virtio/queue_fetch.c under virtio/queue.c) over guest memory the
 * input fills: driver area, descriptor table (loops, indirect tables,
 * heads and addresses out of range) and buffers; and the driver keeps
 * writing while the device's posted reads are in flight (each flush
 * applies more input bytes first), so round 1's guesses go stale. The
 * queue must pop, complete and decide interrupts without crashing,
 * hanging or reading outside guest memory, and a broken queue stays
 * broken.
 * FUZZ_SRCS: virtio/queue.c virtio/queue_fetch.c virtio/guest_mem.c
 * FUZZ_SRCS: vmm/state.c vmm/memory.c vmm/dirty.c vmm/log.c vmm/kvm.c
 * FUZZ_LIBS: -lfdt
 * FUZZ_ARGS: -max_len=8192
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/guest_mem.h"
#include "virtio/queue.h"
#include "virtio/queue_fetch.h"

#define GPA    0x10000ULL
#define MEMSZ  0x4000ULL
#define QSIZE  16u
#define POSTS  128u

struct fz {
    uint8_t mem[MEMSZ];
    const uint8_t *in;
    size_t len, pos;
    struct { uint64_t gpa, len; void *buf; uint8_t data[64]; } p[POSTS];
    unsigned int np;
};

static uint8_t *at(struct fz *f, uint64_t gpa, uint64_t len)
{
    if (gpa < GPA || gpa + len < gpa || gpa + len > GPA + MEMSZ)
        return NULL;
    return f->mem + (gpa - GPA);
}

/* The driver writes a few bytes somewhere in the rings (input-driven). */
static void driver_writes(struct fz *f)
{
    while (f->pos + 3 <= f->len && f->in[f->pos] & 1) {
        uint16_t off = (uint16_t)((f->in[f->pos + 1] << 8 | f->in[f->pos + 2])
                                  % 0x300);

        f->mem[off] = f->in[f->pos] >> 1;
        f->pos += 3;
    }
    if (f->pos < f->len)
        f->pos++;
}

static int f_read(void *o, uint64_t gpa, void *buf, uint64_t len)
{
    struct fz *f = o;
    uint8_t *p = at(f, gpa, len);

    driver_writes(f);
    if (!p)
        return -EFAULT;
    memcpy(buf, p, len);
    return 0;
}

static int f_write(void *o, uint64_t gpa, const void *buf, uint64_t len)
{
    struct fz *f = o;
    uint8_t *p = at(f, gpa, len);

    if (!p)
        return -EFAULT;
    memcpy(p, buf, len);
    return 0;
}

static int f_post(struct fz *f, uint64_t gpa, void *buf, const void *data,
                  uint64_t len)
{
    if (!at(f, gpa, len) || f->np == POSTS || (data && len > 64))
        return -EFAULT;
    f->p[f->np].gpa = gpa;
    f->p[f->np].len = len;
    f->p[f->np].buf = buf;
    if (data)
        memcpy(f->p[f->np].data, data, len);
    f->np++;
    return 0;
}

static int f_read_posted(void *o, uint64_t gpa, void *buf, uint64_t len)
{
    return f_post(o, gpa, buf, NULL, len);
}

static int f_write_posted(void *o, uint64_t gpa, const void *buf,
                          uint64_t len)
{
    return f_post(o, gpa, NULL, buf, len);
}

static int f_flush(void *o)
{
    struct fz *f = o;

    driver_writes(f);   /* concurrently with the posted reads */
    for (unsigned int i = 0; i < f->np; i++) {
        uint8_t *p = at(f, f->p[i].gpa, f->p[i].len);

        if (f->p[i].buf)
            memcpy(f->p[i].buf, p, f->p[i].len);
        else
            memcpy(p, f->p[i].data, f->p[i].len);
    }
    f->np = 0;
    return 0;
}

static const struct virtio_mem_ops ops = {
    .read = f_read, .write = f_write, .read_posted = f_read_posted,
    .write_posted = f_write_posted, .flush = f_flush,
};

static void run(struct fz *f, struct virtq *q, struct virtq_elem *e)
{
    uint16_t heads[64];

    for (int round = 0; round < 8; round++) {
        unsigned int n = 0;
        int r;

        virtq_disable_notify(q);
        while (n < 64 && (r = virtq_pop(q, e)) == 1)
            heads[n++] = e->head;
        virtq_enable_notify(q);
        for (unsigned int i = 0; i < n; i++)
            virtq_push_deferred(q, heads[i], 1);
        virtq_publish(q);
        virtq_need_notify(q);
        if (virtq_msg_area_new(q) && !q->broken) {
            virtq_disable_notify(q);
            while ((r = virtq_pop(q, e)) == 1)
                virtq_push_deferred(q, e->head, 0);
            virtq_publish(q);
        }
        virtq_msg_drop_area(q);
        if (q->broken && virtq_pop(q, e) != -EIO)
            abort();
        driver_writes(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz f;
    struct virtio_mem mem = { .ops = &ops, .opaque = &f };
    struct virtq_seg segs[8];
    struct virtq_elem e = { .segs = segs, .max_segs = 8 };
    struct virtq q;
    size_t fill;

    if (size < 2)
        return 0;
    memset(&f, 0, sizeof(f));
    fill = size - 1 < 0x300 ? size - 1 : 0x300;
    memcpy(f.mem, data + 1, fill);
    f.in = data + 1 + fill;
    f.len = size - 1 - fill;
    if (virtq_init(&q, &mem, QSIZE) || virtq_msg_alloc(&q, 16))
        abort();
    /* desc at 0x000, avail at 0x100, used at 0x200 */
    virtq_set_addrs(&q, GPA, GPA + 0x100, GPA + 0x200);
    virtq_set_features(&q, (data[0] & 1 ? 1ULL << 28 : 0) |
                               (data[0] & 2 ? 1ULL << 29 : 0));
    if (virtq_enable(&q) == 0)
        run(&f, &q, &e);
    virtq_msg_free(&q);
    return 0;
}
