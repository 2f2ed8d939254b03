/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu device model (see iommu.h; virtio 1.2 section 5.13). */
#include "virtio/iommu.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtio/iommu_proto.h"
#include "virtio/iommu_req.h"
#include "virtio/queue.h"
#include "vmm/endian.h"

#define IOMMU_MAX_SEGS 8

struct virtio_iommu {
    struct virtio_dev vdev;
    struct virtq queues[2];         /* 0 requests, 1 events (faults) */
    struct virtio_mem mem;
    pthread_mutex_t lock;           /* dom, st, the event queue */
    struct viommu_dom dom;
    struct virtio_iommu_stats st;
    _Atomic uint64_t faults_busy;   /* dropped: the lock was held */
    uint8_t props[VIOMMU_PROBE_SIZE]; /* PROBE reply scratch */
};

static void iommu_reset(struct virtio_dev *vdev)
{
    struct virtio_iommu *m = vdev->priv;

    pthread_mutex_lock(&m->lock);
    viommu_dom_reset(&m->dom);
    m->dom.bypass_config = true;
    pthread_mutex_unlock(&m->lock);
}

static int iommu_features_ok(struct virtio_dev *vdev, uint64_t features)
{
    struct virtio_iommu *m = vdev->priv;

    pthread_mutex_lock(&m->lock);
    m->dom.bypass_config = features & (1ULL << VIOMMU_F_BYPASS_CONFIG);
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static void fill_config(struct virtio_iommu *m, struct viommu_config *c)
{
    memset(c, 0, sizeof(*c));
    le64_store(&c->page_size_mask, ~(m->dom.page_size - 1));
    le64_store(&c->input_end, m->dom.input_last);
    le32_store(&c->domain_end, VIOMMU_MAX_DOMAINS - 1);
    le32_store(&c->probe_size, VIOMMU_PROBE_SIZE);
    c->bypass = m->dom.bypass;
}

static int iommu_config_read(struct virtio_dev *vdev, uint32_t off,
                             void *buf, uint32_t len)
{
    struct virtio_iommu *m = vdev->priv;
    struct viommu_config c;

    if (off > sizeof(c) || len > sizeof(c) - off)
        return -EINVAL;
    pthread_mutex_lock(&m->lock);
    fill_config(m, &c);
    pthread_mutex_unlock(&m->lock);
    memcpy(buf, (uint8_t *)&c + off, len);
    return 0;
}

/* Only bypass is writable, and only with BYPASS_CONFIG (5.13.4.2). */
static int iommu_config_write(struct virtio_dev *vdev, uint32_t off,
                              const void *buf, uint32_t len)
{
    struct virtio_iommu *m = vdev->priv;
    const uint32_t at = offsetof(struct viommu_config, bypass);

    if (off > at || off + len <= at ||
        !virtio_dev_has_feature(vdev, VIOMMU_F_BYPASS_CONFIG))
        return 0; /* read-only bytes: ignored */
    pthread_mutex_lock(&m->lock);
    viommu_dom_set_bypass(&m->dom, ((const uint8_t *)buf)[at - off] & 1);
    pthread_mutex_unlock(&m->lock);
    return 0;
}

/* Handle one popped request; returns the bytes written or -errno (broken
 * queue). */
static int handle(struct virtio_iommu *m, const struct virtq_elem *e)
{
    uint8_t rd[VIRTIO_IOMMU_REQ_MAX], tail[VIOMMU_TAIL_SIZE] = {0};
    uint64_t n = e->out_bytes < sizeof(rd) ? e->out_bytes : sizeof(rd);
    struct viommu_req req;
    uint64_t toff;
    int r;

    if (e->truncated || e->in_bytes < VIOMMU_TAIL_SIZE)
        return 0; /* nowhere to put a status: return it unanswered */
    r = virtq_elem_read(&m->queues[0], e, 0, rd, n);
    if (r < 0)
        return r == -ERANGE ? 0 : r;
    tail[0] = viommu_req_parse(rd, n, &req);
    toff = viommu_req_tail_offset(req.type, VIOMMU_PROBE_SIZE);
    if (toff > e->in_bytes - VIOMMU_TAIL_SIZE) {
        toff = e->in_bytes - VIOMMU_TAIL_SIZE; /* short PROBE buffer */
        tail[0] = VIOMMU_S_INVAL;
    }
    if (tail[0] == VIOMMU_S_OK) {
        pthread_mutex_lock(&m->lock);
        tail[0] = viommu_req_exec(&m->dom, &req, m->props,
                                  sizeof(m->props));
        pthread_mutex_unlock(&m->lock);
        m->st.maps += req.type == VIOMMU_T_MAP && !tail[0];
        m->st.unmaps += req.type == VIOMMU_T_UNMAP && !tail[0];
    }
    if (tail[0] == VIOMMU_S_OK && req.type == VIOMMU_T_PROBE)
        r = virtq_elem_write(&m->queues[0], e, 0, m->props, sizeof(m->props));
    if (r >= 0)
        r = virtq_elem_write(&m->queues[0], e, toff, tail, sizeof(tail));
    m->st.requests++;
    return r < 0 ? r : (int)(toff + sizeof(tail));
}

static int iommu_queue_notify(struct virtio_dev *vdev, uint16_t qidx)
{
    struct virtio_iommu *m = vdev->priv;
    struct virtq_seg segs[IOMMU_MAX_SEGS];
    struct virtq_elem e = { .segs = segs, .max_segs = IOMMU_MAX_SEGS };
    int r = 0, n;

    if (qidx == 1)
        return 0; /* event buffers: used when a fault comes */
    if (qidx != 0)
        return -EINVAL;
    while ((r = virtq_pop(&m->queues[0], &e)) == 1) {
        n = handle(m, &e);
        if (n < 0) {
            r = n;
            break;
        }
        r = virtq_push(&m->queues[0], e.head, (uint32_t)n);
        if (r < 0)
            break;
    }
    if (r < 0 && m->queues[0].broken)
        virtio_dev_queue_failed(vdev, &m->queues[0]);
    virtio_dev_notify_queue(vdev, 0);
    return r < 0 ? r : 0;
}

static const struct virtio_dev_ops iommu_dev_ops = {
    .features_ok = iommu_features_ok,
    .reset = iommu_reset,
    .config_read = iommu_config_read,
    .config_write = iommu_config_write,
    .queue_notify = iommu_queue_notify,
};

int virtio_iommu_create(const struct virtio_iommu_params *p,
                        const struct virtio_mem *mem,
                        const struct virtio_irq *irq,
                        struct virtio_iommu **out)
{
    struct virtio_iommu *m;
    uint64_t f = (1ULL << VIOMMU_F_INPUT_RANGE) |
                 (1ULL << VIOMMU_F_DOMAIN_RANGE) |
                 (1ULL << VIOMMU_F_MAP_UNMAP) | (1ULL << VIOMMU_F_PROBE) |
                 (1ULL << VIOMMU_F_BYPASS_CONFIG) |
                 (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                 (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    int r;

    if (p->page_size < 4096 || (p->page_size & (p->page_size - 1)) ||
        p->input_bits < 12 || p->input_bits > 64)
        return -EINVAL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->mem = *mem;
    pthread_mutex_init(&m->lock, NULL);
    viommu_dom_init(&m->dom, p->page_size, p->input_bits, p->sink,
                    p->sink_opaque);
    r = virtq_init(&m->queues[0], &m->mem, VIRTIO_IOMMU_QUEUE_SIZE);
    if (r == 0)
        r = virtq_init(&m->queues[1], &m->mem, VIRTIO_IOMMU_QUEUE_SIZE);
    if (r == 0)
        r = virtio_dev_init(&m->vdev, VIOMMU_DEVICE_ID, f, m->queues, 2,
                            &iommu_dev_ops, m, irq);
    if (r < 0) {
        virtio_iommu_destroy(m);
        return r;
    }
    *out = m;
    return 0;
}

void virtio_iommu_destroy(struct virtio_iommu *m)
{
    if (!m)
        return;
    viommu_dom_fini(&m->dom);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

struct virtio_dev *virtio_iommu_vdev(struct virtio_iommu *m)
{
    return &m->vdev;
}

int virtio_iommu_add_ram(struct virtio_iommu *m, uint64_t gpa, uint64_t size)
{
    int r;

    pthread_mutex_lock(&m->lock);
    r = viommu_dom_add_ram(&m->dom, gpa, size);
    pthread_mutex_unlock(&m->lock);
    return r;
}

int virtio_iommu_add_ep(struct virtio_iommu *m, uint32_t id,
                        const struct host_iommu_dev *host)
{
    int r;

    pthread_mutex_lock(&m->lock);
    r = viommu_dom_add_ep(&m->dom, id, host);
    pthread_mutex_unlock(&m->lock);
    return r;
}

int virtio_iommu_translate(struct virtio_iommu *m, uint32_t id,
                           uint64_t iova, uint64_t len, uint32_t prot,
                           uint64_t *gpa, bool report)
{
    int e, r;

    pthread_mutex_lock(&m->lock);
    e = viommu_dom_find_ep(&m->dom, id);
    r = e < 0 ? -ENOENT : viommu_dom_translate(&m->dom, (unsigned int)e,
                                               iova, len, prot, gpa);
    pthread_mutex_unlock(&m->lock);
    if (report && (r == -EFAULT || r == -EPERM))
        virtio_iommu_report_fault(m, id, iova, prot);
    return r;
}

void virtio_iommu_get_stats(struct virtio_iommu *m,
                            struct virtio_iommu_stats *st)
{
    pthread_mutex_lock(&m->lock);
    *st = m->st;
    pthread_mutex_unlock(&m->lock);
    st->faults_dropped += atomic_load(&m->faults_busy);
}

/* Fault reports on the event queue (virtio 1.2 section 5.13.6.9). */
void virtio_iommu_report_fault(struct virtio_iommu *m, uint32_t id,
                               uint64_t iova, uint32_t prot)
{
    struct virtq_seg segs[4];
    struct virtq_elem e = { .segs = segs, .max_segs = 4 };
    struct virtq *q = &m->queues[1];
    uint8_t rec[sizeof(struct viommu_fault)] = {0};
    int r;

    rec[0] = VIOMMU_FAULT_R_MAPPING;
    le32_store(rec + 4, VIOMMU_FAULT_F_ADDRESS |
               (prot & 1 ? VIOMMU_FAULT_F_READ : 0) |
               (prot & 2 ? VIOMMU_FAULT_F_WRITE : 0));
    le32_store(rec + 8, id);
    le64_store(rec + 16, iova);
    /* Not a blocking lock: the fault may come from a thread that holds
     * it, waiting inside the sink for a server that answers with a DMA
     * request (a vfio-user MAP in progress). Such faults are counted. */
    if (pthread_mutex_trylock(&m->lock)) {
        atomic_fetch_add(&m->faults_busy, 1);
        return;
    }
    m->st.faults++;
    r = virtio_dev_driver_ok(&m->vdev) && q->enabled ? virtq_pop(q, &e) : 0;
    if (r == 1 && e.in_bytes >= sizeof(rec) && !e.truncated &&
        virtq_elem_write(q, &e, 0, rec, sizeof(rec)) == 0) {
        virtq_push(q, e.head, sizeof(rec));
        virtio_dev_notify_queue(&m->vdev, 1);
    } else {
        if (r == 1) /* too small a buffer: hand it back empty */
            virtq_push(q, e.head, 0);
        m->st.faults_dropped++;
    }
    pthread_mutex_unlock(&m->lock);
}

/* --- state (snapshots, migration) ---------------------------------------
 * The virtio_dev state, the config bypass field, every live domain with
 * its mappings, and which domain each endpoint is attached to. Load
 * replays them as ATTACH/MAP requests, so each endpoint's DMA backend (a
 * vfio-user server) gets its mappings again before any vCPU runs. */

#define MAP_REC 28u /* start, last, phys (le64), flags (le32) */

static int save_domain(const struct viommu_domain *d, void *fdt, int node,
                       unsigned int id)
{
    char name[24];
    uint8_t *buf;
    int sub, r;

    snprintf(name, sizeof(name), "domain@%u", id);
    sub = fdt_subnode_offset(fdt, node, name);
    if (sub < 0)
        sub = fdt_add_subnode(fdt, node, name);
    if (sub < 0)
        return sub == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
    buf = malloc(d->n ? d->n * MAP_REC : 1);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        le64_store(buf + i * MAP_REC, d->m[i].start);
        le64_store(buf + i * MAP_REC + 8, d->m[i].last);
        le64_store(buf + i * MAP_REC + 16, d->m[i].phys);
        le32_store(buf + i * MAP_REC + 24, d->m[i].flags);
    }
    r = state_put_u32(fdt, sub, "bypass", d->bypass);
    if (r == 0)
        r = state_put_bytes(fdt, sub, "mappings", buf, d->n * MAP_REC);
    free(buf);
    return r;
}

static int iommu_save(void *opaque, void *fdt, int node)
{
    struct virtio_iommu *m = opaque;
    uint8_t eps[VIOMMU_MAX_ENDPOINTS * 8];
    int r;

    r = virtio_dev_save(&m->vdev, fdt, node);
    pthread_mutex_lock(&m->lock);
    if (r == 0)
        r = state_put_u32(fdt, node, "bypass", m->dom.bypass);
    for (unsigned int i = 0; r == 0 && i < m->dom.nep; i++) {
        le32_store(eps + 8 * i, m->dom.ep[i].id);
        le32_store(eps + 8 * i + 4, (uint32_t)m->dom.ep[i].domain);
    }
    if (r == 0)
        r = state_put_bytes(fdt, node, "endpoints", eps, 8 * m->dom.nep);
    for (unsigned int i = 0; r == 0 && i < VIOMMU_MAX_DOMAINS; i++)
        if (m->dom.dom[i].live)
            r = save_domain(&m->dom.dom[i], fdt, node, i);
    pthread_mutex_unlock(&m->lock);
    return r;
}

/* Attach every endpoint the file puts in domain @id; the first creates
 * the domain, whose mappings are then replayed, then the rest. */
static int load_domain(struct viommu_dom *s, const void *fdt, int sub,
                       unsigned int id, const uint8_t *eps, int neps)
{
    const uint8_t *maps;
    uint32_t bypass = 0;
    int len = 0, first = 1;

    if (state_get_u32(fdt, sub, "bypass", &bypass) || bypass > 1)
        return -EINVAL;
    maps = fdt_getprop(fdt, sub, "mappings", &len);
    if (!maps || len % MAP_REC)
        return -EINVAL;
    for (int i = 0; i < neps; i++) {
        if (le32_load(eps + 8 * i + 4) != id)
            continue;
        if (viommu_dom_attach(s, id, le32_load(eps + 8 * i),
                              bypass ? VIOMMU_ATTACH_F_BYPASS : 0))
            return -EINVAL;
        for (int k = 0; first && k < len / (int)MAP_REC; k++) {
            struct viommu_map mp = {
                .start = le64_load(maps + k * MAP_REC),
                .last = le64_load(maps + k * MAP_REC + 8),
                .phys = le64_load(maps + k * MAP_REC + 16),
                .flags = le32_load(maps + k * MAP_REC + 24),
            };
            if (viommu_dom_map(s, id, &mp))
                return -EINVAL;
        }
        first = 0;
    }
    return first ? -EINVAL : 0; /* a domain without endpoints */
}

static int load_state(struct virtio_iommu *m, const void *fdt, int node)
{
    const uint8_t *eps;
    uint32_t bypass;
    int len = 0, r, sub;

    if (state_get_u32(fdt, node, "bypass", &bypass) || bypass > 1)
        return -EINVAL;
    eps = fdt_getprop(fdt, node, "endpoints", &len);
    if (!eps || len % 8 || len / 8 != (int)m->dom.nep)
        return -EINVAL;
    for (int i = 0; i < len / 8; i++)
        if (viommu_dom_find_ep(&m->dom, le32_load(eps + 8 * i)) < 0)
            return -EINVAL; /* endpoints come from the command line */
    fdt_for_each_subnode(sub, fdt, node) {
        const char *name = fdt_get_name(fdt, sub, NULL);
        unsigned int id;

        if (!name || sscanf(name, "domain@%u", &id) != 1)
            continue;
        if (id >= VIOMMU_MAX_DOMAINS)
            return -EINVAL;
        r = load_domain(&m->dom, fdt, sub, id, eps, len / 8);
        if (r)
            return r;
    }
    viommu_dom_set_bypass(&m->dom, bypass);
    return 0;
}

static int iommu_load(void *opaque, const void *fdt, int node)
{
    struct virtio_iommu *m = opaque;
    int r = virtio_dev_load(&m->vdev, fdt, node);

    if (r)
        return r;
    pthread_mutex_lock(&m->lock);
    viommu_dom_reset(&m->dom); /* a fresh device: identity everywhere */
    r = load_state(m, fdt, node);
    if (r)
        viommu_dom_reset(&m->dom);
    m->dom.bypass_config =
        virtio_dev_has_feature(&m->vdev, VIOMMU_F_BYPASS_CONFIG) ||
        !(m->vdev.status & VIRTIO_DEV_S_FEATURES_OK);
    pthread_mutex_unlock(&m->lock);
    return r;
}

const struct state_ops virtio_iommu_state_ops = {
    .save = iommu_save,
    .load = iommu_load,
};
