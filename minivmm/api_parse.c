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
        r = get_string(obj, "uri", req->uri, sizeof(req->uri));
        if (r < 0)
            snprintf(err, errlen, "migrate needs \"uri\"");
        return r < 0 ? -EINVAL : 0;
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
