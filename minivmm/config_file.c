/* SPDX-License-Identifier: BSD-3-Clause */
/* The --config VM description file and its inverse, the "config" API
 * reply (see config_file.h, docs/vm.schema.json). Every value goes
 * through config_apply(), the command line's own option table. */
#include "minivmm/config_file.h"
#include "minivmm/config_viommu.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm/config_opts.h"
#include "vmm/kvopts.h"

#define FILE_MAX_BYTES (1 << 20)

/* Keys that take a JSON integer as well as a string. */
static bool numeric_key(const char *k)
{
    return !strcmp(k, "cpus") || !strcmp(k, "memory") ||
           !strcmp(k, "migrate-downtime-ms") ||
           !strcmp(k, "migrate-timeout-ms") ||
           !strcmp(k, "shutdown-timeout");
}

/* Keys whose option may be repeated: a string or an array of strings. */
static bool list_key(const char *k)
{
    return !strcmp(k, "disk") || !strcmp(k, "net") ||
           !strcmp(k, "vfio-user") || !strcmp(k, "cpu-features");
}

static int apply_str(const char *path, const char *key, const char *arg,
                     struct vm_config *cfg, char *err, size_t errlen)
{
    char why[384] = "";
    int r = config_apply(key, arg, cfg, why, sizeof(why));

    if (r < 0)
        snprintf(err, errlen, "--config %s: \"%s\": %s", path, key, why);
    return r < 0 ? -EINVAL : 0;
}

static int bad_type(const char *path, const char *key, const char *want,
                    char *err, size_t errlen)
{
    snprintf(err, errlen, "--config %s: \"%s\": must be %s", path, key,
             want);
    return -EINVAL;
}

/* One member of the file's object. */
static int apply_member(const char *path, const char *key,
                        struct json_object *v, struct vm_config *cfg,
                        char *err, size_t errlen)
{
    enum json_type t = json_object_get_type(v);
    char num[24];
    int has_arg = config_option_has_arg(key);

    if (!strcmp(key, "config") || !strcmp(key, "help") ||
        !strcmp(key, "version") || has_arg < 0) {
        snprintf(err, errlen, "--config %s: unknown key \"%s\" (keys are "
                 "the long options of minivmm --help)", path, key);
        return -EINVAL;
    }
    if (!has_arg) {
        if (t != json_type_boolean)
            return bad_type(path, key, "true or false", err, errlen);
        return json_object_get_boolean(v) ?
               apply_str(path, key, NULL, cfg, err, errlen) : 0;
    }
    if (t == json_type_int && numeric_key(key) &&
        json_object_get_int64(v) >= 0) {
        snprintf(num, sizeof(num), "%lld",
                 (long long)json_object_get_int64(v));
        return apply_str(path, key, num, cfg, err, errlen);
    }
    if (t == json_type_array && list_key(key)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            struct json_object *e = json_object_array_get_idx(v, i);

            if (!json_object_is_type(e, json_type_string))
                return bad_type(path, key, "an array of strings", err,
                                errlen);
            if (apply_str(path, key, json_object_get_string(e), cfg, err,
                          errlen) < 0)
                return -EINVAL;
        }
        return 0;
    }
    if (t != json_type_string)
        return bad_type(path, key, list_key(key) ? "a string or an array "
                        "of strings" : numeric_key(key) ? "a string or a "
                        "non-negative integer" : "a string", err, errlen);
    return apply_str(path, key, json_object_get_string(v), cfg, err, errlen);
}

/* The file's text parsed as one JSON value (nothing after it); NULL with
 * the reason in @err. */
static struct json_object *read_json(const char *path, char *err,
                                     size_t errlen)
{
    struct json_tokener *tok = NULL;
    struct json_object *o = NULL;
    FILE *f = fopen(path, "re");
    char *text = malloc(FILE_MAX_BYTES + 1);
    size_t n = 0, end = 0;

    if (!f || !text) {
        snprintf(err, errlen, "--config %s: %s", path, strerror(errno));
        goto out;
    }
    n = fread(text, 1, FILE_MAX_BYTES + 1, f);
    if (n > FILE_MAX_BYTES) {
        snprintf(err, errlen, "--config %s: larger than %d bytes", path,
                 FILE_MAX_BYTES);
        goto out;
    }
    tok = json_tokener_new();
    if (tok)
        o = json_tokener_parse_ex(tok, text, (int)n);
    end = tok ? json_tokener_get_parse_end(tok) : 0;
    while (o && end < n && strchr(" \t\r\n", text[end]))
        end++;
    if (!o || end < n) {
        snprintf(err, errlen, "--config %s: not JSON (%s at byte %zu)", path,
                 !tok ? "out of memory" : !o && json_tokener_get_error(tok) ==
                 json_tokener_continue ? "unexpected end" :
                 o ? "text after the object" :
                 json_tokener_error_desc(json_tokener_get_error(tok)), end);
        json_object_put(o);
        o = NULL;
    }
out:
    if (tok)
        json_tokener_free(tok);
    if (f)
        fclose(f);
    free(text);
    return o;
}

int config_load_file(const char *path, struct vm_config *cfg, char *err,
                     size_t errlen)
{
    struct json_object *o = read_json(path, err, errlen);

    if (!o)
        return -EINVAL;
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        snprintf(err, errlen, "--config %s: the file must hold one JSON "
                 "object", path);
        return -EINVAL;
    }
    cfg->file = o; /* strings applied below point into it */
    json_object_object_foreach(o, key, val) {
        if (apply_member(path, key, val, cfg, err, errlen) < 0)
            return -EINVAL;
    }
    return 0;
}

/* --- the description of a parsed configuration ------------------------- */

static void add_str(struct json_object *o, const char *k, const char *v)
{
    if (v && v[0])
        json_object_object_add(o, k, json_object_new_string(v));
}

static void add_memory(struct json_object *o, const struct vm_config *cfg)
{
    static const char units[] = "KMGT";
    uint64_t v = cfg->memory;
    char buf[48];
    int u = -1;

    /* A multiple of 4 KiB (config_parse): at least one step. */
    while (u < 3 && v && v % 1024 == 0)
        v /= 1024, u++;
    snprintf(buf, sizeof(buf), "%llu%c%s", (unsigned long long)v,
             units[u < 0 ? 0 : u], cfg->hugepages ? ",hugepages=on" : "");
    add_str(o, "memory", buf);
}

static void add_serial(struct json_object *o, const struct vm_config *cfg)
{
    char buf[CONFIG_PATH_MAX + 16];

    switch (cfg->serial) {
    case SERIAL_FILE:
        snprintf(buf, sizeof(buf), "file:%s", cfg->serial_path);
        break;
    case SERIAL_SOCKET:
        snprintf(buf, sizeof(buf), "socket:%s", cfg->serial_path);
        break;
    default:
        snprintf(buf, sizeof(buf), "%s", cfg->serial == SERIAL_PTY ? "pty" :
                 cfg->serial == SERIAL_NONE ? "none" : "stdio");
    }
    add_str(o, "serial", buf);
}

/* @s with every ',' doubled (a value of a key=value option); "" when it
 * does not fit (cannot happen: option strings are bounded). */
static const char *esc(const char *s, char *buf, size_t len)
{
    return kvopts_escape(s, buf, len) < 0 ? "" : buf;
}

static void add_devices(struct json_object *o, const struct vm_config *cfg)
{
    struct json_object *d = json_object_new_array();
    struct json_object *n = json_object_new_array();
    struct json_object *v = json_object_new_array();
    char buf[2 * CONFIG_PATH_MAX + 128], e[2 * CONFIG_PATH_MAX + 1];

    for (unsigned int i = 0; i < cfg->ndisks; i++) {
        int k = snprintf(buf, sizeof(buf), "path=%s%s,id=%s%s",
                         esc(cfg->disks[i].path, e, sizeof(e)),
                         cfg->disks[i].readonly ? ",readonly" : "",
                         cfg->disks[i].id,
                         cfg->disks[i].iommu_off ? ",iommu=off" : "");

        if (cfg->disks[i].slot && k > 0 && (size_t)k < sizeof(buf))
            snprintf(buf + k, sizeof(buf) - (size_t)k, ",slot=%u",
                     cfg->disks[i].slot);
        json_object_array_add(d, json_object_new_string(buf));
    }
    for (unsigned int i = 0; i < cfg->nnets; i++) {
        const uint8_t *m = cfg->nets[i].mac;
        int k = snprintf(buf, sizeof(buf), "tap=%s", cfg->nets[i].tap);

        if (cfg->nets[i].has_mac)
            snprintf(buf + k, sizeof(buf) - (size_t)k,
                     ",mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
                     m[3], m[4], m[5]);
        json_object_array_add(n, json_object_new_string(buf));
    }
    for (unsigned int i = 0; i < cfg->nvfio; i++) {
        const struct config_vfio *c = &cfg->vfio[i];
        int k = snprintf(buf, sizeof(buf), "socket=%s,id=%s%s%s",
                         esc(c->socket, e, sizeof(e)), c->id,
                         c->dma_message ? ",dma=message" : "",
                         c->iommu_off ? ",iommu=off" : "");

        if (c->reconnect)
            k += snprintf(buf + k, sizeof(buf) - (size_t)k, ",reconnect=%u",
                          c->reconnect);
        if (c->timeout_ms)
            k += snprintf(buf + k, sizeof(buf) - (size_t)k, ",timeout=%u",
                          c->timeout_ms);
        if (c->slot)
            snprintf(buf + k, sizeof(buf) - (size_t)k, ",slot=%u", c->slot);
        json_object_array_add(v, json_object_new_string(buf));
    }
    json_object_object_add(o, "disk", d);
    json_object_object_add(o, "net", n);
    json_object_object_add(o, "vfio-user", v);
}

struct json_object *config_to_json(const struct vm_config *cfg)
{
    struct json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    add_str(o, "kernel", cfg->kernel);
    add_str(o, "initrd", cfg->initrd);
    add_str(o, "cmdline", cfg->cmdline);
    add_str(o, "restore", cfg->restore);
    add_str(o, "incoming", cfg->incoming);
    json_object_object_add(o, "cpus", json_object_new_int((int)cfg->cpus));
    add_memory(o, cfg);
    add_serial(o, cfg);
    add_str(o, "cpu-features", cfg->cpu_features);
    add_devices(o, cfg);
    json_object_object_add(o, "console",
                           json_object_new_boolean(cfg->virtio_console));
    json_object_object_add(o, "rng", json_object_new_boolean(cfg->virtio_rng));
    if (cfg->viommu.on) {
        char vb[64];

        config_viommu_str(&cfg->viommu, vb, sizeof(vb));
        add_str(o, "viommu", vb);
    }
    add_str(o, "api-socket", cfg->api_socket);
    add_str(o, "log-level", cfg->log_level);
    add_str(o, "log-file", cfg->log_file);
    add_str(o, "event-log", cfg->event_log);
    if (cfg->shutdown_timeout)
        json_object_object_add(o, "shutdown-timeout", json_object_new_int(
                                   (int)cfg->shutdown_timeout));
    if (cfg->migrate_downtime_ms)
        json_object_object_add(o, "migrate-downtime-ms", json_object_new_int(
                                   (int)cfg->migrate_downtime_ms));
    if (cfg->migrate_timeout_ms)
        json_object_object_add(o, "migrate-timeout-ms", json_object_new_int(
                                   (int)cfg->migrate_timeout_ms));
    if (cfg->migrate_rt_boost_off)
        add_str(o, "migrate-rt-boost", "off");
    return o;
}
