/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-iommu request parsing and dispatch (see iommu_req.h; virtio 1.2
 * section 5.13.6). */
#include "virtio/iommu_req.h"

#include <errno.h>
#include <string.h>

#include "virtio/iommu_proto.h"
#include "vmm/endian.h"

/* Readable bytes each request type needs (its layout minus the tail). */
static size_t req_size(uint8_t type)
{
    switch (type) {
    case VIOMMU_T_ATTACH: return sizeof(struct viommu_req_attach);
    case VIOMMU_T_DETACH: return sizeof(struct viommu_req_detach);
    case VIOMMU_T_MAP:    return sizeof(struct viommu_req_map);
    case VIOMMU_T_UNMAP:  return sizeof(struct viommu_req_unmap);
    case VIOMMU_T_PROBE:  return sizeof(struct viommu_req_probe);
    default:              return 0;
    }
}

uint8_t viommu_req_parse(const void *rd, size_t rdlen, struct viommu_req *req)
{
    const uint8_t *b = rd;
    size_t need;

    memset(req, 0, sizeof(*req));
    if (rdlen < sizeof(struct viommu_req_head))
        return VIOMMU_S_INVAL;
    req->type = b[0];
    need = req_size(req->type);
    if (!need)
        return VIOMMU_S_UNSUPP;
    if (rdlen < need)
        return VIOMMU_S_INVAL;
    switch (req->type) {
    case VIOMMU_T_ATTACH:
        req->flags = le32_load(b + 12);
        /* fall through */
    case VIOMMU_T_DETACH:
        req->domain = le32_load(b + 4);
        req->endpoint = le32_load(b + 8);
        break;
    case VIOMMU_T_MAP:
        req->map.phys = le64_load(b + 24);
        req->map.flags = req->flags = le32_load(b + 32);
        /* fall through */
    case VIOMMU_T_UNMAP:
        req->domain = le32_load(b + 4);
        req->map.start = le64_load(b + 8);
        req->map.last = le64_load(b + 16);
        break;
    case VIOMMU_T_PROBE:
        req->endpoint = le32_load(b + 4);
        break;
    }
    return VIOMMU_S_OK;
}

size_t viommu_req_tail_offset(uint8_t type, uint32_t probe_size)
{
    return type == VIOMMU_T_PROBE ? probe_size : 0;
}

static int put_resv(uint8_t *buf, size_t len, size_t *off, uint8_t subtype,
                    uint64_t start, uint64_t end)
{
    uint8_t *p = buf + *off;

    if (len - *off < sizeof(struct viommu_probe_resv_mem))
        return -ENOSPC;
    le16_store(p, VIOMMU_PROBE_T_RESV_MEM);
    le16_store(p + 2, sizeof(struct viommu_probe_resv_mem) - 4);
    p[4] = subtype;
    le64_store(p + 8, start);
    le64_store(p + 16, end);
    *off += sizeof(struct viommu_probe_resv_mem);
    return 0;
}

int viommu_probe_fill(const struct viommu_dom *s, unsigned int ep,
                      uint8_t *buf, size_t len)
{
    const struct host_iommu_caps *c = &s->ep[ep].host.caps;
    size_t off = 0;
    int r;

    memset(buf, 0, len);
    r = put_resv(buf, len, &off, VIOMMU_RESV_MEM_T_MSI, VIOMMU_MSI_START,
                 VIOMMU_MSI_END);
    for (unsigned int i = 0; r == 0 && i < c->nresv; i++)
        r = put_resv(buf, len, &off, VIOMMU_RESV_MEM_T_RESERVED,
                     c->resv[i].start, c->resv[i].last);
    return r;
}

uint8_t viommu_req_exec(struct viommu_dom *s, const struct viommu_req *req,
                        uint8_t *props, size_t props_len)
{
    int e;

    switch (req->type) {
    case VIOMMU_T_ATTACH:
        return viommu_dom_attach(s, req->domain, req->endpoint, req->flags);
    case VIOMMU_T_DETACH:
        return viommu_dom_detach(s, req->domain, req->endpoint);
    case VIOMMU_T_MAP:
        return viommu_dom_map(s, req->domain, &req->map);
    case VIOMMU_T_UNMAP:
        return viommu_dom_unmap(s, req->domain, req->map.start,
                                req->map.last);
    case VIOMMU_T_PROBE:
        e = viommu_dom_find_ep(s, req->endpoint);
        if (e < 0)
            return VIOMMU_S_NOENT;
        return viommu_probe_fill(s, (unsigned int)e, props, props_len) ?
               VIOMMU_S_DEVERR : VIOMMU_S_OK;
    default:
        return VIOMMU_S_UNSUPP;
    }
}
