/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-blk flush, get-id, discard and write-zeroes requests (spec
 * 5.2.6 "Device Operation"); see blk_req.h (internal part). */
#define VIRTIO_BLK_REQ_INTERNAL
#include "virtio/blk_req.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

void blk_start_flush(struct blk_io *blk, const struct blk_parse *ps)
{
    struct blk_req *req;

    if (!virtio_dev_has_feature(blk->vdev, VIRTIO_BLK_F_FLUSH)) {
        blk_complete_early(blk, ps, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    req = blk_req_new(blk, ps, 0, 1);
    if (!req)
        return;
    req->ops[0].kind = BLK_OP_FLUSH;
    blk_start_ops(blk, req);
}

void blk_do_get_id(struct blk_io *blk, const struct blk_parse *ps)
{
    uint64_t n = ps->e->in_bytes - 1;
    int r;

    if (n > VIRTIO_BLK_ID_BYTES)
        n = VIRTIO_BLK_ID_BYTES;
    r = virtq_elem_write(&blk->queues[ps->qidx], ps->e, 0, blk->serial, n);
    if (r < 0) {
        blk_complete_early(blk, ps, VIRTIO_BLK_S_IOERR);
        return;
    }
    blk_complete(blk, ps->qidx, ps->e->head, ps->status_gpa, VIRTIO_BLK_S_OK,
             (uint32_t)n + 1);
}

/* Check one range; returns a VIRTIO_BLK_S_* status. */
static uint8_t check_range(const struct blk_io *blk, uint32_t type,
                           const struct virtio_blk_discard_write_zeroes *rg)
{
    uint32_t flags = le32toh(rg->flags);
    uint32_t allowed = type == VIRTIO_BLK_T_WRITE_ZEROES ?
                       VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;

    if (flags & ~allowed)
        return VIRTIO_BLK_S_UNSUPP;     /* spec 5.2.6.2 */
    if (le32toh(rg->num_sectors) > BLK_MAX_DWZ_SECTORS ||
        !blk_in_capacity(blk, le64toh(rg->sector), le32toh(rg->num_sectors)))
        return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
}

/* Read and validate the ranges; returns a status, *@n ranges in @rg. */
static uint8_t read_ranges(struct blk_io *blk, const struct blk_parse *ps,
                           struct virtio_blk_discard_write_zeroes *rg,
                           unsigned int *n)
{
    uint64_t bytes = ps->e->out_bytes - sizeof(struct virtio_blk_outhdr);
    unsigned int i;
    uint8_t st;

    if (bytes == 0 || bytes % sizeof(*rg) ||
        bytes / sizeof(*rg) > BLK_MAX_DWZ_SEG)
        return VIRTIO_BLK_S_IOERR;
    *n = bytes / sizeof(*rg);
    if (virtq_elem_read(&blk->queues[ps->qidx], ps->e,
                        sizeof(struct virtio_blk_outhdr), rg, bytes) < 0)
        return VIRTIO_BLK_S_IOERR;
    for (i = 0; i < *n; i++) {
        st = check_range(blk, ps->type, &rg[i]);
        if (st != VIRTIO_BLK_S_OK)
            return st;
    }
    return VIRTIO_BLK_S_OK;
}

void blk_start_dwz(struct blk_io *blk, const struct blk_parse *ps)
{
    struct virtio_blk_discard_write_zeroes rg[BLK_MAX_DWZ_SEG];
    unsigned int feature = ps->type == VIRTIO_BLK_T_DISCARD ?
                           VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
    unsigned int i, n = 0, nops = 0;
    struct blk_req *req;
    uint8_t st;

    if (!virtio_dev_has_feature(blk->vdev, feature)) {
        blk_complete_early(blk, ps, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    st = read_ranges(blk, ps, rg, &n);
    for (i = 0; i < n; i++)
        nops += rg[i].num_sectors != 0;
    if (st != VIRTIO_BLK_S_OK || nops == 0) {
        blk_complete_early(blk, ps, st);
        return;
    }
    req = blk_req_new(blk, ps, 0, nops);
    if (!req)
        return;
    for (i = 0, nops = 0; i < n; i++) {
        if (!rg[i].num_sectors)
            continue;
        req->ops[nops].off = le64toh(rg[i].sector) << BLK_SECTOR_SHIFT;
        req->ops[nops].len = (uint64_t)le32toh(rg[i].num_sectors)
                             << BLK_SECTOR_SHIFT;
        req->ops[nops++].kind = ps->type == VIRTIO_BLK_T_DISCARD ?
                                BLK_OP_DISCARD : BLK_OP_ZERO;
    }
    blk_start_ops(blk, req);
}

