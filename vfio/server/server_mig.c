/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user server core: VFIO_USER_DEVICE_FEATURE (migration, migration
 * state, DMA logging) and the migration data stream. Spec: vfio-user.rst
 * "VFIO_USER_DEVICE_FEATURE", "Device Features", "VFIO_USER_MIG_DATA_READ",
 * "VFIO_USER_MIG_DATA_WRITE".
 *
 * The stream: entering PRE_COPY the device gives its early part
 * (ops->mig_precopy, none without it) and MIG_DATA_READ drains that;
 * entering STOP_COPY the device serialises itself once (ops->mig_save),
 * after what is left of the pre-copy part, and MIG_DATA_READ drains that
 * buffer. In RESUMING,
 * MIG_DATA_WRITE appends (up to VFIO_SRV_MIG_DATA_MAX bytes) and RESUMING
 * -> STOP hands the whole stream to ops->mig_load.
 */
#include "vfio/server/server_mig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/server/server_dma.h"

#include "vfio/proto/migration.h"
#include "vmm/log.h"

#define FEAT_HDR ((uint32_t)sizeof(struct vfio_user_device_feature))
#define MIG_HDR  ((uint32_t)sizeof(struct vfio_user_mig_data))

void srv_mig_free(struct vfio_srv *s)
{
    free(s->mig_buf);
    s->mig_buf = NULL;
    s->mig_len = s->mig_pos = s->mig_cap = 0;
}

static bool pre_copy(uint32_t st)
{
    return st == VFIO_DEVICE_STATE_PRE_COPY ||
           st == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

/* Entering STOP_COPY (from @from): the unread rest of the pre-copy part,
 * then the device's final state. */
static int stream_stop_copy(struct vfio_srv *s, uint32_t from)
{
    size_t len = 0, rest = 0;
    void *buf = NULL;
    uint8_t *nb;
    int r = s->dev.ops->mig_save(s->dev.opaque, &buf, &len);

    if (r)
        return r;
    if (pre_copy(from))
        rest = s->mig_len - s->mig_pos;
    if (rest) {
        nb = malloc(rest + len);
        if (!nb) {
            free(buf);
            return -ENOMEM;
        }
        memcpy(nb, s->mig_buf + s->mig_pos, rest);
        memcpy(nb + rest, buf, len);
        free(buf);
        buf = nb;
        len += rest;
    }
    srv_mig_free(s);
    s->mig_buf = buf;
    s->mig_len = s->mig_cap = len;
    return 0;
}

/* The server's part of one arc, after the device's. */
static int mig_stream_arc(struct vfio_srv *s, uint32_t from, uint32_t to)
{
    void *buf = NULL;
    size_t len = 0;
    int r;

    if (to == VFIO_DEVICE_STATE_STOP_COPY)
        return stream_stop_copy(s, from);
    if (pre_copy(to) && !pre_copy(from)) {
        srv_mig_free(s);
        if (!s->dev.ops->mig_precopy)
            return 0;
        r = s->dev.ops->mig_precopy(s->dev.opaque, &buf, &len);
        if (r)
            return r;
        s->mig_buf = buf;
        s->mig_len = s->mig_cap = len;
    } else if (to == VFIO_DEVICE_STATE_RESUMING) {
        srv_mig_free(s);
    } else if (from == VFIO_DEVICE_STATE_RESUMING) {
        r = s->dev.ops->mig_load(s->dev.opaque, s->mig_buf, s->mig_len);
        srv_mig_free(s);
        return r;
    } else if (!pre_copy(to)) {
        srv_mig_free(s); /* out of the saving group: the stream ends */
    }
    return 0;
}

/* Walk @cur -> @target one arc at a time (spec "Complex State
 * Transitions"). A failing arc leaves the last state reached; a failed
 * load (RESUMING -> STOP) leaves ERROR, left only by DEVICE_RESET. */
static int mig_set_state(struct vfio_srv *s, uint32_t target)
{
    uint32_t path[VFIO_USER_MIG_PATH_MAX];
    size_t n, i;
    int r;

    if (target == VFIO_DEVICE_STATE_ERROR)
        return -EINVAL;
    r = vfio_user_mig_path(s->dev.mig_flags, s->mig_state, target, path,
                           VFIO_USER_MIG_PATH_MAX, &n);
    if (r)
        return r;
    for (i = 0; i < n; i++) {
        uint32_t from = s->mig_state;

        r = s->dev.ops->mig_arc(s->dev.opaque, from, path[i]);
        if (!r)
            r = mig_stream_arc(s, from, path[i]);
        if (r) {
            if (from == VFIO_DEVICE_STATE_RESUMING)
                s->mig_state = VFIO_DEVICE_STATE_ERROR;
            return r;
        }
        s->mig_state = path[i];
    }
    return 0;
}

static int feat_migration(struct vfio_srv *s, struct vfio_user_msg *m,
                          struct vfio_user_device_feature *f)
{
    struct vfio_user_device_feature_migration mf = {s->dev.mig_flags};

    if (f->flags & VFIO_DEVICE_FEATURE_SET)
        return -EINVAL;
    if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
        return srv_reply(s, m, m->payload, FEAT_HDR, NULL, 0);
    if (f->argsz < FEAT_HDR + sizeof(mf))
        return -EINVAL;
    f->argsz = FEAT_HDR + sizeof(mf);
    memcpy(s->obuf, f, FEAT_HDR);
    memcpy(s->obuf + FEAT_HDR, &mf, sizeof(mf));
    return srv_reply(s, m, s->obuf, f->argsz, NULL, 0);
}

static int feat_mig_state(struct vfio_srv *s, struct vfio_user_msg *m,
                          struct vfio_user_device_feature *f)
{
    struct vfio_user_device_feature_mig_state st = {0};
    int r;

    if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
        return srv_reply(s, m, m->payload, FEAT_HDR, NULL, 0);
    if (f->flags & VFIO_DEVICE_FEATURE_SET) {
        if (m->payload_len < FEAT_HDR + sizeof(st))
            return -EINVAL;
        memcpy(&st, (uint8_t *)m->payload + FEAT_HDR, sizeof(st));
        r = mig_set_state(s, st.device_state);
        if (r)
            return r;
        return srv_reply(s, m, m->payload, FEAT_HDR + sizeof(st), NULL, 0);
    }
    if (f->argsz < FEAT_HDR + sizeof(st))
        return -EINVAL;
    st.device_state = s->mig_state;
    f->argsz = FEAT_HDR + sizeof(st);
    memcpy(s->obuf, f, FEAT_HDR);
    memcpy(s->obuf + FEAT_HDR, &st, sizeof(st));
    return srv_reply(s, m, s->obuf, f->argsz, NULL, 0);
}

/* DMA logging: START/STOP are SET-only, REPORT is GET-only. */
static int feat_logging(struct vfio_srv *s, struct vfio_user_msg *m,
                        struct vfio_user_device_feature *f, uint32_t feat)
{
    bool report = feat == VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
    uint32_t need = report ? VFIO_DEVICE_FEATURE_GET
                           : VFIO_DEVICE_FEATURE_SET;
    uint32_t other = VFIO_DEVICE_FEATURE_GET ^ VFIO_DEVICE_FEATURE_SET ^ need;

    if (f->flags & other)
        return -EINVAL;
    if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
        return srv_reply(s, m, m->payload, FEAT_HDR, NULL, 0);
    if (!(f->flags & need))
        return -EINVAL;
    if (report)
        return srv_log_report(s, m);
    if (feat == VFIO_DEVICE_FEATURE_DMA_LOGGING_START)
        return srv_log_start(s, m);
    return srv_log_stop(s, m);
}

int srv_cmd_feature(struct vfio_srv *s, struct vfio_user_msg *m)
{
    const uint32_t ops = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
                         VFIO_DEVICE_FEATURE_PROBE;
    struct vfio_user_device_feature f;
    uint32_t feat;

    memcpy(&f, m->payload, sizeof(f));
    feat = f.flags & VFIO_DEVICE_FEATURE_MASK;
    if ((f.flags & ~(ops | VFIO_DEVICE_FEATURE_MASK)) ||
        !(f.flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) ||
        ((f.flags & VFIO_DEVICE_FEATURE_GET) &&
         (f.flags & VFIO_DEVICE_FEATURE_SET) &&
         !(f.flags & VFIO_DEVICE_FEATURE_PROBE)))
        return -EINVAL;
    if (!s->dev.mig_flags || s->v1) /* v1: server_mig_v1.c */
        return -ENOTSUP;
    switch (feat) {
    case VFIO_DEVICE_FEATURE_MIGRATION:
        return feat_migration(s, m, &f);
    case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
        return feat_mig_state(s, m, &f);
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
        return feat_logging(s, m, &f, feat);
    default:
        return -ENOTSUP;
    }
}

int srv_cmd_mig_read(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_mig_data in, out;
    size_t left = s->mig_len - s->mig_pos;
    uint32_t n;

    memcpy(&in, m->payload, sizeof(in));
    if (s->mig_state != VFIO_DEVICE_STATE_STOP_COPY &&
        !pre_copy(s->mig_state))
        return -EINVAL;
    if (in.size > s->eff.max_data_xfer_size || in.argsz < MIG_HDR ||
        in.size > s->buf_size - MIG_HDR)
        return -EINVAL;
    n = in.size;
    if (n > left)
        n = (uint32_t)left;
    if (n > in.argsz - MIG_HDR)
        n = in.argsz - MIG_HDR;
    out.argsz = MIG_HDR + n;
    out.size = n;
    memcpy(s->obuf, &out, sizeof(out));
    if (n)
        memcpy(s->obuf + MIG_HDR, s->mig_buf + s->mig_pos, n);
    s->mig_pos += n;
    if (s->dev.strict && in.size > n) { /* libvfio-user pads to size */
        memset(s->obuf + MIG_HDR + n, 0, in.size - n);
        n = in.size;
    }
    return srv_reply(s, m, s->obuf, MIG_HDR + n, NULL, 0);
}

int srv_mig_append(struct vfio_srv *s, const void *data, size_t n)
{
    size_t cap;
    uint8_t *nb;

    if (s->mig_len + n > s->mig_cap) {
        cap = s->mig_cap ? s->mig_cap : 4096;
        while (cap < s->mig_len + n)
            cap *= 2;
        nb = realloc(s->mig_buf, cap);
        if (!nb)
            return -ENOMEM;
        s->mig_buf = nb;
        s->mig_cap = cap;
    }
    memcpy(s->mig_buf + s->mig_len, data, n);
    s->mig_len += n;
    return 0;
}

int srv_cmd_mig_write(struct vfio_srv *s, struct vfio_user_msg *m)
{
    struct vfio_user_mig_data in;
    int r;

    memcpy(&in, m->payload, sizeof(in));
    if (s->dev.strict && in.argsz < MIG_HDR + (uint64_t)in.size) {
        log_warn("vfio-user server: MIG_DATA_WRITE argsz too small "
                 "(%u < %u) (strict)\n", in.argsz, MIG_HDR + in.size);
        return -EINVAL;
    }
    if (s->mig_state != VFIO_DEVICE_STATE_RESUMING ||
        in.size != m->payload_len - MIG_HDR ||
        in.size > VFIO_SRV_MIG_DATA_MAX - s->mig_len)
        return -EINVAL;
    r = srv_mig_append(s, (uint8_t *)m->payload + MIG_HDR, in.size);
    return r ? r : srv_reply(s, m, NULL, 0, NULL, 0);
}

int srv_mig_set_state(struct vfio_srv *s, uint32_t target)
{
    return mig_set_state(s, target);
}
