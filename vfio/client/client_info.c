/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user client: device discovery (device, region, io-fd and IRQ info),
 * every field checked before use. See client.h.
 * Spec: vfio-user.rst "VFIO_USER_DEVICE_GET_INFO",
 * "VFIO_USER_DEVICE_GET_REGION_INFO", "VFIO_USER_DEVICE_GET_REGION_IO_FDS",
 * "VFIO_USER_DEVICE_GET_IRQ_INFO". */
#include "vfio/client/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#define RI_SIZE   ((uint32_t)sizeof(struct vfio_region_info))
#define RI_BUF    2048u             /* region info reply incl. caps */
#define RI_MAX_SIZE (1ULL << 48)    /* largest region we accept */
#define PAGE      4096ull
#define IOFD_HDR  ((uint32_t)sizeof(struct vfio_user_region_io_fds_reply))
#define IOFD_ENT  ((uint32_t)sizeof(struct vfio_user_sub_region_ioeventfd))
#define IOFD_ENT_SHADOW                                                       \
    ((uint32_t)sizeof(struct vfio_user_sub_region_ioeventfd_shadow))
#define IOFD_BUF                                                              \
    (IOFD_HDR + VFIO_CLIENT_MAX_IOFDS * VFIO_CLIENT_IOFD_STRIDE_MAX)

static void close_fds(int *fds, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int vfio_client_device_info(struct vfio_client *c,
                            struct vfio_client_dev_info *out)
{
    struct vfio_user_device_info req = {.argsz = sizeof(req)}, rep;
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DEVICE_GET_INFO, .req = &req, .req_len = sizeof(req),
        .reply = &rep, .reply_cap = sizeof(rep), .reply_min = sizeof(rep),
    };
    int r = client_call(c, &call);

    if (r)
        return r;
    if (rep.num_regions > VFIO_CLIENT_MAX_REGIONS ||
        rep.num_irqs > VFIO_CLIENT_MAX_IRQS) {
        client_refuse(c, "DEVICE_GET_INFO: num_regions %u / num_irqs %u "
                      "above the limits %u / %u", rep.num_regions,
                      rep.num_irqs, VFIO_CLIENT_MAX_REGIONS,
                      VFIO_CLIENT_MAX_IRQS);
        return -EPROTO;
    }
    out->flags = rep.flags;
    out->num_regions = rep.num_regions;
    out->num_irqs = rep.num_irqs;
    return 0;
}

/* Sparse mmap areas: inside the region, page aligned. */
static int parse_sparse(struct vfio_client *c, struct vfio_client_region *o,
                        const uint8_t *p, uint32_t len)
{
    struct vfio_region_info_cap_sparse_mmap s;
    struct vfio_region_sparse_mmap_area a;

    if (len < sizeof(s))
        return -EPROTO;
    memcpy(&s, p, sizeof(s));
    if (s.nr_areas > VFIO_CLIENT_MAX_SPARSE ||
        s.nr_areas > (len - sizeof(s)) / sizeof(a)) {
        client_refuse(c, "region %u: sparse mmap nr_areas %u too many or "
                      "beyond the reply", o->index, s.nr_areas);
        return -EPROTO;
    }
    o->has_sparse = true;
    for (uint32_t i = 0; i < s.nr_areas; i++) {
        memcpy(&a, p + sizeof(s) + i * sizeof(a), sizeof(a));
        if (a.size && o->nsparse >= VFIO_CLIENT_MAX_SPARSE) {
            /* Several sparse capabilities add up: the total is bounded,
             * not only each one's nr_areas. */
            client_refuse(c, "region %u: more than %u sparse mmap areas in "
                          "all its capabilities", o->index,
                          VFIO_CLIENT_MAX_SPARSE);
            return -EPROTO;
        }
        if (a.offset > o->size || a.size > o->size - a.offset ||
            (a.offset | a.size) % PAGE) {
            client_refuse(c, "region %u: sparse area %u [%#llx, +%#llx) "
                          "outside the %#llx-byte region or unaligned",
                          o->index, i, (unsigned long long)a.offset,
                          (unsigned long long)a.size,
                          (unsigned long long)o->size);
            return -EPROTO;
        }
        if (a.size)
            o->sparse[o->nsparse++] = (struct vfio_client_area){
                a.offset, a.size};
    }
    return 0;
}

/* Walk the capability chain of a region info reply of @len bytes. */
static int parse_caps(struct vfio_client *c, struct vfio_client_region *o,
                      const uint8_t *buf, uint32_t len, uint32_t off)
{
    struct vfio_info_cap_header h;
    struct vfio_region_info_cap_type t;
    unsigned int n = 0;
    int r = 0;

    while (off && r == 0) {
        if (off < RI_SIZE || off > len - sizeof(h) || off % 4 ||
            ++n > VFIO_CLIENT_MAX_CAPS) {
            client_refuse(c, "region %u: capability at offset %u outside "
                          "the %u-byte reply (or too many)", o->index, off,
                          len);
            return -EPROTO;
        }
        memcpy(&h, buf + off, sizeof(h));
        if (h.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
            r = parse_sparse(c, o, buf + off, len - off);
        } else if (h.id == VFIO_REGION_INFO_CAP_TYPE) {
            if (len - off < sizeof(t))
                r = -EPROTO;
            memcpy(&t, buf + off, r ? 0 : sizeof(t));
            o->has_type = r == 0;
            o->type = t.type;
            o->subtype = t.subtype;
        }
        if (r == 0 && h.next && h.next <= off) {
            client_refuse(c, "region %u: capability chain goes backwards "
                          "(%u -> %u)", o->index, off, h.next);
            return -EPROTO;
        }
        off = h.next;
    }
    if (r == -EPROTO && !vfio_client_failed(c))
        client_refuse(c, "region %u: capability truncated", o->index);
    return r;
}

static int check_region(struct vfio_client *c, struct vfio_client_region *o,
                        const struct vfio_region_info *ri, uint32_t len,
                        unsigned int nfds)
{
    if (ri->index != o->index || ri->argsz > len || ri->argsz < RI_SIZE) {
        client_refuse(c, "region %u info: index %u / argsz %u inconsistent "
                      "with the %u-byte reply", o->index, ri->index,
                      ri->argsz, len);
        return -EPROTO;
    }
    if (ri->size > RI_MAX_SIZE || ri->offset > UINT64_MAX - ri->size) {
        client_refuse(c, "region %u info: size %#llx / offset %#llx out of "
                      "range", o->index, (unsigned long long)ri->size,
                      (unsigned long long)ri->offset);
        return -EPROTO;
    }
    if (nfds && !(ri->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
        client_refuse(c, "region %u info: %u fds for a region without MMAP "
                      "flag", o->index, nfds);
        return -EPROTO;
    }
    return 0;
}

/* libvfio-user sends the region's fd once per sparse mmap area (its
 * dev_get_caps()); the spec speaks of one fd. Several are accepted if they
 * all name the same file, which is then mapped through the first. */
static int check_region_fds(struct vfio_client *c, uint32_t index,
                            const int *fds, unsigned int nfds)
{
    struct stat a, b;

    if (nfds < 2)
        return 0;
    if (fstat(fds[0], &a) < 0)
        return -errno;
    for (unsigned int i = 1; i < nfds; i++) {
        if (fstat(fds[i], &b) < 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino) {
            client_refuse(c, "region %u info: fd %u of %u names another "
                          "file than fd 0 (one file per region)", index, i,
                          nfds);
            return -EPROTO;
        }
    }
    return 0;
}

int vfio_client_region_info(struct vfio_client *c, uint32_t index,
                            struct vfio_client_region *out)
{
    struct vfio_region_info req = {.argsz = RI_BUF, .index = index}, ri;
    uint8_t *buf = malloc(RI_BUF);
    int fds[VFIO_CLIENT_MAX_SPARSE];
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DEVICE_GET_REGION_INFO, .req = &req,
        .req_len = sizeof(req), .reply = buf, .reply_cap = RI_BUF,
        .reply_min = RI_SIZE, .rfds = fds, .rfds_cap = VFIO_CLIENT_MAX_SPARSE,
    };
    int r = buf ? client_call(c, &call) : -ENOMEM;

    memset(out, 0, sizeof(*out));
    out->index = index;
    out->fd = -1;
    if (r == 0) {
        memcpy(&ri, buf, sizeof(ri));
        r = check_region(c, out, &ri, call.reply_len, call.nrfds);
    }
    if (r == 0)
        r = check_region_fds(c, index, fds, call.nrfds);
    if (r == 0) {
        out->flags = ri.flags;
        out->size = ri.size;
        out->mmap_offset = ri.offset;
        if (call.nrfds == 0)
            out->flags &= ~VFIO_REGION_INFO_FLAG_MMAP; /* nothing to map */
        if ((ri.flags & VFIO_REGION_INFO_FLAG_CAPS) && ri.cap_offset)
            r = parse_caps(c, out, buf, ri.argsz, ri.cap_offset);
    }
    if (r == 0 && call.nrfds) {
        out->fd = fds[0];
        fds[0] = -1;
    }
    close_fds(fds, call.nrfds);
    free(buf);
    return r;
}

/* One ioeventfd entry at @p, in the spec's 40-byte layout or (@stride
 * 48) libvfio-user's, whose datamatch is at 40. Returns 1 if usable. */
static int parse_iofd(struct vfio_client *c, uint32_t index, uint64_t rsize,
                      const uint8_t *p, uint32_t stride, unsigned int i,
                      struct vfio_client_iofds *out)
{
    struct vfio_user_sub_region_ioeventfd e;
    struct vfio_user_sub_region_ioeventfd_shadow sh;
    uint64_t span;

    memcpy(&e, p, sizeof(e));
    if (stride == IOFD_ENT_SHADOW) {
        memcpy(&sh, p, sizeof(sh));
        e.datamatch = sh.datamatch;
    }
    if (e.fd_index >= out->nfds) {
        client_refuse(c, "region %u io-fd %u: fd_index %u but %u fds "
                      "received", index, i, e.fd_index, out->nfds);
        return -EPROTO;
    }
    span = e.size ? e.size : 1;
    if (e.offset > rsize || span > rsize - e.offset) {
        client_refuse(c, "region %u io-fd %u: [%#llx, +%#llx) outside the "
                      "%#llx-byte region", index, i,
                      (unsigned long long)e.offset,
                      (unsigned long long)e.size, (unsigned long long)rsize);
        return -EPROTO;
    }
    if (e.type != VFIO_USER_IO_FD_TYPE_IOEVENTFD ||
        (e.size != 0 && e.size != 1 && e.size != 2 && e.size != 4 &&
         e.size != 8) ||
        (e.flags & ~(uint32_t)(KVM_IOEVENTFD_FLAG_DATAMATCH |
                               KVM_IOEVENTFD_FLAG_PIO)))
        return 0; /* unusable here: the range stays trapped */
    out->e[out->n++] = (struct vfio_client_iofd){
        .offset = e.offset, .size = (uint32_t)e.size, .flags = e.flags,
        .datamatch = e.datamatch, .fd = out->fds[e.fd_index],
    };
    return 1;
}

static int parse_iofds(struct vfio_client *c, uint32_t index, uint64_t rsize,
                       const uint8_t *buf, uint32_t len,
                       struct vfio_client_iofds *out)
{
    struct vfio_user_region_io_fds_reply h;
    uint32_t stride;
    int r = 0;

    memcpy(&h, buf, sizeof(h));
    if (h.index != index || h.flags || h.count > VFIO_CLIENT_MAX_IOFDS ||
        h.argsz > len || h.argsz < IOFD_HDR || (h.count && !out->nfds) ||
        (!h.count && out->nfds)) {
        client_refuse(c, "region %u io-fds: index %u flags %#x count %u "
                      "argsz %u with %u fds in a %u-byte reply", index,
                      h.index, h.flags, h.count, h.argsz, out->nfds, len);
        return -EPROTO;
    }
    if (!h.count)
        return 0;
    stride = (h.argsz - IOFD_HDR) / h.count;
    if ((h.argsz - IOFD_HDR) % h.count ||
        (stride != IOFD_ENT && stride != IOFD_ENT_SHADOW)) {
        client_refuse(c, "region %u io-fds: argsz %u is not 16 + %u entries "
                      "of 40 (spec) or 48 (libvfio-user) bytes", index,
                      h.argsz, h.count);
        return -EPROTO;
    }
    out->stride = stride;
    for (uint32_t i = 0; i < h.count && r >= 0; i++)
        r = parse_iofd(c, index, rsize, buf + IOFD_HDR + i * stride, stride,
                       i, out);
    return r < 0 ? r : 0;
}

int vfio_client_region_io_fds(struct vfio_client *c, uint32_t index,
                              uint64_t region_size,
                              struct vfio_client_iofds *out)
{
    struct vfio_user_region_io_fds_request req = {
        .argsz = IOFD_BUF, .index = index,
    };
    uint8_t *buf = malloc(IOFD_BUF);
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DEVICE_GET_REGION_IO_FDS, .req = &req,
        .req_len = sizeof(req), .reply = buf, .reply_cap = IOFD_BUF,
        .reply_min = IOFD_HDR, .rfds = out->fds,
        .rfds_cap = VFIO_CLIENT_RECV_FDS,
    };
    int r;

    out->n = out->nfds = out->stride = 0;
    r = buf ? client_call(c, &call) : -ENOMEM;
    if (r == 0) {
        out->nfds = call.nrfds;
        r = parse_iofds(c, index, region_size, buf, call.reply_len, out);
    }
    if (r)
        vfio_client_iofds_close(out);
    free(buf);
    return r;
}

void vfio_client_iofds_close(struct vfio_client_iofds *f)
{
    close_fds(f->fds, f->nfds);
    f->nfds = 0;
    f->n = 0;
}

int vfio_client_irq_info(struct vfio_client *c, uint32_t index,
                         struct vfio_irq_info *out)
{
    struct vfio_irq_info req = {.argsz = sizeof(req), .index = index};
    struct vfio_user_call call = {
        .cmd = VFIO_USER_DEVICE_GET_IRQ_INFO, .req = &req,
        .req_len = sizeof(req), .reply = out, .reply_cap = sizeof(*out),
        .reply_min = sizeof(*out),
    };
    int r = client_call(c, &call);

    if (r)
        return r;
    if (out->index != index || out->count > VFIO_CLIENT_MAX_VECTORS) {
        client_refuse(c, "IRQ info %u: index %u / count %u inconsistent "
                      "(at most %u)", index, out->index, out->count,
                      VFIO_CLIENT_MAX_VECTORS);
        return -EPROTO;
    }
    return 0;
}
