/* SPDX-License-Identifier: BSD-3-Clause */
/* Control API request parsing (see api.h): pure, over one line. */
#include "minivmm/api_parse.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char *const cmd_names[API_CMD_COUNT] = {
    [API_CMD_STATUS] = "status",
    [API_CMD_PAUSE] = "pause",
    [API_CMD_RESUME] = "resume",
    [API_CMD_SNAPSHOT] = "snapshot",
    [API_CMD_QUIT] = "quit",
    [API_CMD_MIGRATE] = "migrate",
    [API_CMD_MIGRATE_STATUS] = "migrate-status",
    [API_CMD_MIGRATE_CANCEL] = "migrate-cancel",
    [API_CMD_CONFIG] = "config",
    [API_CMD_STATS] = "stats",
    [API_CMD_DEVICE_ADD] = "device-add",
    [API_CMD_DEVICE_REMOVE] = "device-remove",
    [API_CMD_POWERDOWN] = "powerdown",
};

const char *api_cmd_name(enum api_cmd cmd)
{
    return (unsigned int)cmd < API_CMD_COUNT ? cmd_names[cmd] : "?";
}

/* String member @key of @obj into @buf: 0, -ENOENT absent, -EINVAL not a
 * non-empty string that fits. */
static int get_string(struct json_object *obj, const char *key, char *buf,
                      size_t len)
{
    struct json_object *v;
    const char *s;

    if (!json_object_object_get_ex(obj, key, &v))
        return -ENOENT;
    if (!json_object_is_type(v, json_type_string))
        return -EINVAL;
    s = json_object_get_string(v);
    if (!s[0] || strlen(s) >= len ||
        strlen(s) != (size_t)json_object_get_string_len(v))
        return -EINVAL;
    strcpy(buf, s);
    return 0;
}

static int parse_id(struct json_object *obj, struct api_request *req,
                    char *err, size_t errlen)
{
    struct json_object *v;

    if (!json_object_object_get_ex(obj, "id", &v))
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        snprintf(err, errlen, "\"id\" must be an integer");
        return -EINVAL;
    }
    /* I-JSON (RFC 7493 2.2): integers beyond +-(2^53 - 1) do not survive
     * every JSON implementation; json-c would clamp them to INT64_MIN/MAX.
     * Refuse them rather than echo a different id. */
    errno = 0;
    req->id = json_object_get_int64(v);
    if (errno || req->id > API_ID_MAX || req->id < -API_ID_MAX ||
        (json_object_get_int64(v) == INT64_MAX &&
         json_object_get_uint64(v) != (uint64_t)INT64_MAX)) {
        snprintf(err, errlen, "\"id\" must be an integer in [-%lld, %lld]",
                 (long long)API_ID_MAX, (long long)API_ID_MAX);
        return -EINVAL;
    }
    req->has_id = true;
    return 0;
}

/* Append ",@key[=@val]" to @out (@cap bytes). 0 or -EINVAL (too long). */
static int kv_append(char *out, size_t cap, const char *key,
                     const char *val)
{
    size_t n = strlen(out);
    int k = snprintf(out + n, cap - n, "%s%s%s%s", n ? "," : "", key,
                     val ? "=" : "", val ? val : "");

    return k < 0 || (size_t)k >= cap - n ? -EINVAL : 0;
}

/* One member of device-add's "args" into req->dev_args. */
static int dev_member(struct api_request *req, const char *key,
                      struct json_object *v, char *err, size_t errlen)
{
    char num[24];
    const char *s = NULL;

    if (!key[0] || strpbrk(key, ",=")) {
        snprintf(err, errlen, "device-add: bad key '%s'", key);
        return -EINVAL;
    }
    if (json_object_is_type(v, json_type_boolean)) {
        if (!json_object_get_boolean(v))
            return 0;
    } else if (json_object_is_type(v, json_type_int)) {
        snprintf(num, sizeof(num), "%lld",
                 (long long)json_object_get_int64(v));
        s = num;
    } else if (json_object_is_type(v, json_type_string)) {
        s = json_object_get_string(v);
        if (strchr(s, ',') || strlen(s) !=
                              (size_t)json_object_get_string_len(v)) {
            snprintf(err, errlen, "device-add: \"%s\" must not contain "
                     "',' or NUL", key);
            return -EINVAL;
        }
    } else {
        snprintf(err, errlen, "device-add: \"%s\" must be a string, an "
                 "integer or a boolean", key);
        return -EINVAL;
    }
    if (kv_append(req->dev_args, sizeof(req->dev_args), key, s) < 0) {
        snprintf(err, errlen, "device-add: arguments too long");
        return -EINVAL;
    }
    return 0;
}

static int parse_device_add(struct json_object *args, struct api_request *req,
                            char *err, size_t errlen)
{
    if (get_string(args, "type", req->dev_type, sizeof(req->dev_type)) < 0) {
        snprintf(err, errlen, "device-add needs \"args\": {\"type\": "
                 "\"disk\" or \"vfio-user\", ...}");
        return -EINVAL;
    }
    json_object_object_foreach(args, key, val) {
        if (!strcmp(key, "type"))
            continue;
        if (dev_member(req, key, val, err, errlen) < 0)
            return -EINVAL;
    }
    return 0;
}

static int parse_device_remove(struct json_object *args,
                               struct api_request *req, char *err,
                               size_t errlen)
{
    struct json_object *t;
    int64_t ms;

    if (get_string(args, "id", req->dev_id, sizeof(req->dev_id)) < 0) {
        snprintf(err, errlen, "device-remove needs \"args\": {\"id\": "
                 "DEVICE-ID}");
        return -EINVAL;
    }
    if (!json_object_object_get_ex(args, "timeout", &t))
        return 0;
    ms = json_object_is_type(t, json_type_int) ? json_object_get_int64(t)
                                               : -1;
    if (ms < 1 || ms > 3600000) {
        snprintf(err, errlen, "device-remove: \"timeout\" must be 1 to "
                 "3600000 ms");
        return -EINVAL;
    }
    req->timeout_ms = (unsigned int)ms;
    return 0;
}

/* "args" of device-add / device-remove: an object. */
static int parse_device(struct json_object *obj, struct api_request *req,
                        char *err, size_t errlen)
{
    struct json_object *args;

    if (!json_object_object_get_ex(obj, "args", &args) ||
        !json_object_is_type(args, json_type_object)) {
        snprintf(err, errlen, "%s needs \"args\": an object",
                 api_cmd_name(req->cmd));
        return -EINVAL;
    }
    return req->cmd == API_CMD_DEVICE_ADD
               ? parse_device_add(args, req, err, errlen)
               : parse_device_remove(args, req, err, errlen);
}

/* Optional integer member @key of @obj in [@lo, @hi] into *@out (left
 * alone when absent). 0 or -EINVAL with the reason in @err. */
static int get_range(struct json_object *obj, const char *key, int64_t lo,
                     int64_t hi, int64_t *out, char *err, size_t errlen)
{
    struct json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    x = json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
                                              : lo - 1;
    if (x < lo || x > hi) {
        snprintf(err, errlen, "migrate: \"%s\" must be an integer, %lld "
                 "to %lld", key, (long long)lo, (long long)hi);
        return -EINVAL;
    }
    *out = x;
    return 0;
}

/* migrate: "uri" and the optional "downtime-ms", "auto-converge",
 * "max-bandwidth", "rt-boost" (docs/api.md). */
static int parse_migrate(struct json_object *obj, struct api_request *req,
                         char *err, size_t errlen)
{
    struct json_object *v;
    int64_t ms = 0, bw = 0;

    req->mig_auto_converge = -1;
    req->mig_rt_boost = -1;
    if (get_string(obj, "uri", req->uri, sizeof(req->uri)) < 0) {
        snprintf(err, errlen, "migrate needs \"uri\"");
        return -EINVAL;
    }
    if (get_range(obj, "downtime-ms", 1, 60000, &ms, err, errlen) < 0 ||
        get_range(obj, "max-bandwidth", 0, 1LL << 40, &bw, err, errlen) < 0)
        return -EINVAL;
    if (bw && bw < (1 << 20)) {
        snprintf(err, errlen, "migrate: \"max-bandwidth\" must be 0 "
                 "(uncapped) or at least 1048576 bytes/s");
        return -EINVAL;
    }
    if (json_object_object_get_ex(obj, "auto-converge", &v)) {
        if (!json_object_is_type(v, json_type_boolean)) {
            snprintf(err, errlen, "migrate: \"auto-converge\" must be "
                     "true or false");
            return -EINVAL;
        }
        req->mig_auto_converge = json_object_get_boolean(v) ? 1 : 0;
    }
    if (json_object_object_get_ex(obj, "rt-boost", &v)) {
        if (!json_object_is_type(v, json_type_boolean)) {
            snprintf(err, errlen, "migrate: \"rt-boost\" must be true or "
                     "false");
            return -EINVAL;
        }
        req->mig_rt_boost = json_object_get_boolean(v) ? 1 : 0;
    }
    req->mig_downtime_ms = (unsigned int)ms;
    req->mig_max_bandwidth = (uint64_t)bw;
    return 0;
}

/* Arguments of the commands that take one. */
static int parse_args(struct json_object *obj, struct api_request *req,
                      char *err, size_t errlen)
{
    int r;

    switch (req->cmd) {
    case API_CMD_SNAPSHOT:
        r = get_string(obj, "file", req->file, sizeof(req->file));
        if (r < 0)
            snprintf(err, errlen, "snapshot needs \"file\": a path");
        return r < 0 ? -EINVAL : 0;
    case API_CMD_MIGRATE:
        return parse_migrate(obj, req, err, errlen);
    case API_CMD_DEVICE_ADD:
    case API_CMD_DEVICE_REMOVE:
        return parse_device(obj, req, err, errlen);
    default:
        return 0;
    }
}

static int parse_object(struct json_object *obj, struct api_request *req,
                        char *err, size_t errlen)
{
    char cmd[32];
    int r;

    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(err, errlen, "a request must be a JSON object");
        return -EINVAL;
    }
    r = parse_id(obj, req, err, errlen);
    if (r < 0)
        return r;
    if (get_string(obj, "cmd", cmd, sizeof(cmd)) < 0) {
        snprintf(err, errlen, "missing or bad \"cmd\"");
        return -EINVAL;
    }
    for (unsigned int i = 0; i < API_CMD_COUNT; i++) {
        if (!strcmp(cmd, cmd_names[i])) {
            req->cmd = (enum api_cmd)i;
            return parse_args(obj, req, err, errlen);
        }
    }
    snprintf(err, errlen, "unknown command '%s'", cmd);
    return -EINVAL;
}

int api_parse_request(const char *line, size_t len, struct api_request *req,
                      char *err, size_t errlen)
{
    struct json_tokener *tok;
    struct json_object *obj;
    int r;

    memset(req, 0, sizeof(*req));
    if (len == 0 || len > API_LINE_MAX) {
        snprintf(err, errlen, len ? "request too long" : "empty request");
        return -EINVAL;
    }
    tok = json_tokener_new();
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    obj = json_tokener_parse_ex(tok, line, (int)len);
    if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len) {
        snprintf(err, errlen, "not one JSON object");
        r = -EINVAL;
    } else {
        r = parse_object(obj, req, err, errlen);
    }
    json_object_put(obj);
    json_tokener_free(tok);
    return r;
}
