/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user VERSION capabilities: JSON encode/parse and negotiation.
 * Spec: vfio-user.rst "VFIO_USER_VERSION"; see caps.h. */
#include "vfio/proto/caps.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vfio/proto/proto.h"

#define PAGE_4K 4096ull

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void vfio_user_caps_default(struct vfio_user_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->max_msg_fds = VFIO_USER_DEFAULT_MAX_MSG_FDS;
    caps->max_data_xfer_size = VFIO_USER_DEFAULT_MAX_DATA_XFER_SIZE;
    caps->max_dma_maps = VFIO_USER_DEFAULT_MAX_DMA_MAPS;
    caps->pgsizes = VFIO_USER_DEFAULT_PGSIZES;
    caps->twin_fd_index = -1;
}

/* ---- encoding ---------------------------------------------------------- */

static int add(struct json_object *obj, const char *key,
               struct json_object *val)
{
    if (!val)
        return -ENOMEM;
    if (json_object_object_add(obj, key, val) < 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

static int add_twin(struct json_object *caps_obj,
                    const struct vfio_user_caps *caps)
{
    struct json_object *twin = json_object_new_object();
    int r;

    if (!twin)
        return -ENOMEM;
    r = add(twin, VFIO_USER_CAP_TWIN_SUPPORTED, json_object_new_boolean(1));
    if (!r && caps->twin_fd_index >= 0)
        r = add(twin, VFIO_USER_CAP_TWIN_FD_INDEX,
                json_object_new_int(caps->twin_fd_index));
    if (r) {
        json_object_put(twin);
        return r;
    }
    return add(caps_obj, VFIO_USER_CAP_TWIN_SOCKET, twin);
}

static int add_migration(struct json_object *caps_obj,
                         const struct vfio_user_caps *caps)
{
    struct json_object *mig = json_object_new_object();
    int r;

    if (!mig)
        return -ENOMEM;
    r = add(mig, VFIO_USER_CAP_MIG_PGSIZE,
            json_object_new_uint64(caps->mig_pgsize));
    if (!r && caps->mig_max_bitmap_size)
        r = add(mig, VFIO_USER_CAP_MIG_MAX_BITMAP,
                json_object_new_uint64(caps->mig_max_bitmap_size));
    if (r) {
        json_object_put(mig);
        return r;
    }
    return add(caps_obj, VFIO_USER_CAP_MIGRATION, mig);
}

static int fill_caps_obj(struct json_object *o,
                         const struct vfio_user_caps *caps)
{
    int r;

    r = add(o, VFIO_USER_CAP_MAX_MSG_FDS,
            json_object_new_uint64(caps->max_msg_fds));
    if (!r)
        r = add(o, VFIO_USER_CAP_MAX_DATA_XFER_SIZE,
                json_object_new_uint64(caps->max_data_xfer_size));
    if (!r)
        r = add(o, VFIO_USER_CAP_MAX_DMA_MAPS,
                json_object_new_uint64(caps->max_dma_maps));
    if (!r)
        r = add(o, VFIO_USER_CAP_PGSIZES,
                json_object_new_uint64(caps->pgsizes));
    if (!r && caps->twin_socket)
        r = add_twin(o, caps);
    if (!r && caps->write_multiple)
        r = add(o, VFIO_USER_CAP_WRITE_MULTIPLE, json_object_new_boolean(1));
    if (!r && caps->migration)
        r = add_migration(o, caps);
    if (!r && caps->iova_bits)
        r = add(o, VFIO_USER_CAP_X_IOVA_BITS,
                json_object_new_uint64(caps->iova_bits));
    return r;
}

int vfio_user_caps_to_json(const struct vfio_user_caps *caps, char **json)
{
    struct json_object *root = json_object_new_object();
    struct json_object *o = json_object_new_object();
    const char *s;
    int r = -ENOMEM;

    *json = NULL;
    if (!root || !o)
        goto out;
    r = fill_caps_obj(o, caps);
    if (r)
        goto out;
    r = add(root, VFIO_USER_CAP_ROOT, o);
    o = NULL; /* owned by root now, even on failure */
    if (r)
        goto out;
    s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
    r = -ENOMEM;
    if (s && (*json = strdup(s)))
        r = 0;
out:
    json_object_put(o);
    json_object_put(root);
    return r;
}

/* ---- parsing ----------------------------------------------------------- */

/* Unsigned integer field @key of @obj within [@min, @max]; absent keeps
 * *@out. */
static int get_uint(struct json_object *obj, const char *key, uint64_t min,
                    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    struct json_object *v;
    uint64_t u;

    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        set_err(err, errlen, "capability %s: not an integer", key);
        return -EINVAL;
    }
    if (json_object_get_int64(v) < 0) {
        set_err(err, errlen, "capability %s: negative", key);
        return -EINVAL;
    }
    u = json_object_get_uint64(v);
    if (u < min || u > max) {
        set_err(err, errlen,
                "capability %s: %llu outside [%llu, %llu]", key,
                (unsigned long long)u, (unsigned long long)min,
                (unsigned long long)max);
        return -EINVAL;
    }
    *out = u;
    return 0;
}

static int get_u32(struct json_object *obj, const char *key, uint32_t min,
                   uint32_t *out, char *err, size_t errlen)
{
    uint64_t v = *out;
    int r = get_uint(obj, key, min, UINT32_MAX, &v, err, errlen);

    *out = (uint32_t)v;
    return r;
}

static int get_bool(struct json_object *obj, const char *key, bool *out,
                    char *err, size_t errlen)
{
    struct json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        set_err(err, errlen, "capability %s: not a boolean", key);
        return -EINVAL;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

/* Optional sub-object @key; *@sub NULL if absent. */
static int get_obj(struct json_object *obj, const char *key,
                   struct json_object **sub, char *err, size_t errlen)
{
    *sub = NULL;
    if (!json_object_object_get_ex(obj, key, sub))
        return 0;
    if (!json_object_is_type(*sub, json_type_object)) {
        set_err(err, errlen, "capability %s: not an object", key);
        return -EINVAL;
    }
    return 0;
}

static int parse_twin(struct json_object *o, struct vfio_user_caps *caps,
                      char *err, size_t errlen)
{
    struct json_object *twin;
    uint64_t idx = UINT64_MAX;
    int r;

    r = get_obj(o, VFIO_USER_CAP_TWIN_SOCKET, &twin, err, errlen);
    if (r || !twin)
        return r;
    r = get_bool(twin, VFIO_USER_CAP_TWIN_SUPPORTED, &caps->twin_socket, err,
                 errlen);
    if (!r)
        r = get_uint(twin, VFIO_USER_CAP_TWIN_FD_INDEX, 0,
                     VFIO_USER_CAPS_FD_INDEX_MAX, &idx, err, errlen);
    if (!r && idx != UINT64_MAX)
        caps->twin_fd_index = (int32_t)idx;
    return r;
}

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int parse_migration(struct json_object *o, struct vfio_user_caps *caps,
                           char *err, size_t errlen)
{
    struct json_object *mig;
    int r;

    r = get_obj(o, VFIO_USER_CAP_MIGRATION, &mig, err, errlen);
    if (r || !mig)
        return r;
    caps->migration = true;
    caps->mig_pgsize = PAGE_4K;
    r = get_uint(mig, VFIO_USER_CAP_MIG_PGSIZE, 1, UINT64_MAX,
                 &caps->mig_pgsize, err, errlen);
    if (!r)
        r = get_uint(mig, VFIO_USER_CAP_MIG_MAX_BITMAP, 1, UINT64_MAX,
                     &caps->mig_max_bitmap_size, err, errlen);
    if (!r && !is_pow2(caps->mig_pgsize)) {
        set_err(err, errlen, "capability migration.pgsize: not a power of 2");
        r = -EINVAL;
    }
    return r;
}

static int parse_caps_obj(struct json_object *o, struct vfio_user_caps *caps,
                          char *err, size_t errlen)
{
    int r;

    r = get_u32(o, VFIO_USER_CAP_MAX_MSG_FDS, 0, &caps->max_msg_fds, err,
                errlen);
    if (!r)
        r = get_u32(o, VFIO_USER_CAP_MAX_DATA_XFER_SIZE, 1,
                    &caps->max_data_xfer_size, err, errlen);
    if (!r)
        r = get_u32(o, VFIO_USER_CAP_MAX_DMA_MAPS, 1, &caps->max_dma_maps,
                    err, errlen);
    if (!r)
        r = get_uint(o, VFIO_USER_CAP_PGSIZES, 1, UINT64_MAX, &caps->pgsizes,
                     err, errlen);
    if (!r && (caps->pgsizes & (PAGE_4K - 1))) {
        set_err(err, errlen, "capability pgsizes: page size below 4 KiB");
        r = -EINVAL;
    }
    if (!r)
        r = parse_twin(o, caps, err, errlen);
    if (!r)
        r = get_bool(o, VFIO_USER_CAP_WRITE_MULTIPLE, &caps->write_multiple,
                     err, errlen);
    if (!r)
        r = parse_migration(o, caps, err, errlen);
    if (!r)
        r = get_uint(o, VFIO_USER_CAP_X_IOVA_BITS, 12, 64, &caps->iova_bits,
                     err, errlen);
    return r;
}

/* Tokenize exactly @len bytes (no NUL among them) of strict JSON;
 * trailing whitespace only. A copy ends in NUL so json-c sees the end of
 * top-level literals ("null", numbers) instead of waiting for more. */
static int tokenize(const char *json, size_t len, struct json_object **out,
                    char *err, size_t errlen)
{
    struct json_tokener *tok;
    struct json_object *root;
    enum json_tokener_error jerr;
    size_t used;
    char *buf;

    *out = NULL;
    buf = malloc(len + 1);
    tok = json_tokener_new_ex(VFIO_USER_CAPS_MAX_DEPTH);
    if (!buf || !tok) {
        free(buf);
        if (tok)
            json_tokener_free(tok);
        return -ENOMEM;
    }
    memcpy(buf, json, len);
    buf[len] = '\0';
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, buf, (int)len + 1);
    jerr = json_tokener_get_error(tok);
    used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    free(buf);
    if (jerr != json_tokener_success) {
        set_err(err, errlen, "version data: bad JSON (%s)",
                jerr == json_tokener_continue ? "truncated"
                                              : json_tokener_error_desc(jerr));
        json_object_put(root);
        return -EINVAL;
    }
    for (; used < len; used++) {
        if (!strchr(" \t\r\n", json[used])) {
            set_err(err, errlen, "version data: trailing bytes after JSON");
            json_object_put(root);
            return -EINVAL;
        }
    }
    *out = root;
    return 0;
}

int vfio_user_caps_parse(const char *json, size_t len,
                         struct vfio_user_caps *caps, char *err,
                         size_t errlen)
{
    struct json_object *root = NULL, *o;
    int r;

    vfio_user_caps_default(caps);
    if (len && json[len - 1] == '\0')
        len--;
    if (len > VFIO_USER_CAPS_JSON_MAX || memchr(json, '\0', len)) {
        set_err(err, errlen, "version data: %s",
                len > VFIO_USER_CAPS_JSON_MAX ? "too long" : "embedded NUL");
        return -EINVAL;
    }
    if (!len)
        return 0; /* "" or a lone NUL: no capabilities */
    r = tokenize(json, len, &root, err, errlen);
    if (r)
        return r;
    r = -EINVAL;
    if (!json_object_is_type(root, json_type_object)) {
        set_err(err, errlen, "version data: not a JSON object");
        goto out;
    }
    r = get_obj(root, VFIO_USER_CAP_ROOT, &o, err, errlen);
    if (!r && o)
        r = parse_caps_obj(o, caps, err, errlen);
out:
    json_object_put(root);
    if (r)
        vfio_user_caps_default(caps);
    return r;
}

/* ---- negotiation ------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Minimum where 0 means "not stated" (unbounded). */
static uint64_t min_stated(uint64_t a, uint64_t b)
{
    if (!a || !b)
        return a ? a : b;
    return min_u64(a, b);
}

/* The common subset of @a and @b (commutative, except twin_fd_index). */
static int intersect(const struct vfio_user_caps *a,
                     const struct vfio_user_caps *b, struct vfio_user_caps *out,
                     char *err, size_t errlen)
{
    vfio_user_caps_default(out);
    out->max_msg_fds = (uint32_t)min_u64(a->max_msg_fds, b->max_msg_fds);
    out->max_data_xfer_size =
        (uint32_t)min_u64(a->max_data_xfer_size, b->max_data_xfer_size);
    out->max_dma_maps = (uint32_t)min_u64(a->max_dma_maps, b->max_dma_maps);
    out->pgsizes = a->pgsizes & b->pgsizes;
    out->twin_socket = a->twin_socket && b->twin_socket;
    out->write_multiple = a->write_multiple && b->write_multiple;
    out->migration = a->migration && b->migration;
    out->iova_bits = min_stated(a->iova_bits, b->iova_bits);
    if (out->migration) {
        out->mig_pgsize = min_u64(a->mig_pgsize, b->mig_pgsize);
        out->mig_max_bitmap_size =
            min_stated(a->mig_max_bitmap_size, b->mig_max_bitmap_size);
    }
    if (!out->pgsizes) {
        set_err(err, errlen,
                "no common DMA page size (pgsizes 0x%llx vs 0x%llx)",
                (unsigned long long)a->pgsizes,
                (unsigned long long)b->pgsizes);
        return -ENOTSUP;
    }
    return 0;
}

int vfio_user_caps_negotiate_server(const struct vfio_user_caps *server,
                                    const struct vfio_user_caps *client,
                                    struct vfio_user_caps *reply, char *err,
                                    size_t errlen)
{
    return intersect(server, client, reply, err, errlen);
}

int vfio_user_caps_check_reply(const struct vfio_user_caps *proposed,
                               const struct vfio_user_caps *reply,
                               unsigned int nfds, struct vfio_user_caps *eff,
                               char *err, size_t errlen)
{
    int r;

    if (reply->twin_socket && !proposed->twin_socket) {
        set_err(err, errlen,
                "inconsistent VERSION reply: twin_socket enabled but not "
                "proposed");
        return -EPROTO;
    }
    if (reply->twin_socket &&
        (reply->twin_fd_index < 0 || (unsigned)reply->twin_fd_index >= nfds)) {
        set_err(err, errlen,
                "inconsistent VERSION reply: twin_socket supported but "
                "fd_index %d does not name one of the %u fds received",
                reply->twin_fd_index, nfds);
        return -EPROTO;
    }
    r = intersect(proposed, reply, eff, err, errlen);
    if (r)
        return r;
    eff->twin_fd_index = eff->twin_socket ? reply->twin_fd_index : -1;
    return 0;
}

/* ---- VERSION payload --------------------------------------------------- */

int vfio_user_version_encode(uint16_t major, uint16_t minor,
                             const struct vfio_user_caps *caps,
                             void **payload, size_t *len)
{
    struct vfio_user_version *v;
    char *json;
    size_t jlen;
    int r;

    *payload = NULL;
    *len = 0;
    r = vfio_user_caps_to_json(caps, &json);
    if (r)
        return r;
    jlen = strlen(json) + 1;
    v = malloc(sizeof(*v) + jlen);
    if (!v) {
        free(json);
        return -ENOMEM;
    }
    v->major = major;
    v->minor = minor;
    memcpy(v->data, json, jlen);
    free(json);
    *payload = v;
    *len = sizeof(*v) + jlen;
    return 0;
}

int vfio_user_version_decode(const void *payload, size_t len, uint16_t *major,
                             uint16_t *minor, struct vfio_user_caps *caps,
                             char *err, size_t errlen)
{
    struct vfio_user_version v;

    vfio_user_caps_default(caps);
    if (len < sizeof(v)) {
        set_err(err, errlen, "VERSION payload: %zu bytes, need %zu", len,
                sizeof(v));
        return -EINVAL;
    }
    memcpy(&v, payload, sizeof(v));
    *major = v.major;
    *minor = v.minor;
    if (len == sizeof(v))
        return 0;
    return vfio_user_caps_parse((const char *)payload + sizeof(v),
                                len - sizeof(v), caps, err, errlen);
}

int vfio_user_version_choose(uint16_t major, uint16_t minor,
                             uint16_t *minor_out, char *err, size_t errlen)
{
    if (major != VFIO_USER_VERSION_MAJOR) {
        set_err(err, errlen, "unsupported protocol major version %u (want %u)",
                major, VFIO_USER_VERSION_MAJOR);
        return -ENOTSUP;
    }
    *minor_out = minor < VFIO_USER_VERSION_MINOR ? minor
                                                 : VFIO_USER_VERSION_MINOR;
    return 0;
}

int vfio_user_version_check_reply(uint16_t prop_major, uint16_t prop_minor,
                                  uint16_t major, uint16_t minor, char *err,
                                  size_t errlen)
{
    if (major != prop_major || minor > prop_minor) {
        set_err(err, errlen,
                "VERSION reply %u.%u does not fit proposed %u.%u", major,
                minor, prop_major, prop_minor);
        return -EPROTO;
    }
    return 0;
}
