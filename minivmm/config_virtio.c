/* SPDX-License-Identifier: BSD-3-Clause */
/* --disk and --net parsing (see config_virtio.h). */
#include "minivmm/config_virtio.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Next "key[=value]" item of a comma-separated list starting at *@s:
 * copies the key into @key and the value (or "") into @val, advances *@s.
 * 0, or -EINVAL if a part does not fit. */
static int next_item(const char **s, char *key, size_t klen, char *val,
                     size_t vlen)
{
    const char *end = strchr(*s, ','), *eq;
    size_t n;

    if (!end)
        end = *s + strlen(*s);
    eq = memchr(*s, '=', (size_t)(end - *s));
    n = (size_t)((eq ? eq : end) - *s);
    if (n >= klen)
        return -EINVAL;
    memcpy(key, *s, n);
    key[n] = 0;
    val[0] = 0;
    if (eq) {
        n = (size_t)(end - eq - 1);
        if (n >= vlen)
            return -EINVAL;
        memcpy(val, eq + 1, n);
        val[n] = 0;
    }
    *s = *end ? end + 1 : end;
    return 0;
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n >= CONFIG_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
            return 0;
    return 1;
}

int config_parse_slot(const char *v, unsigned int *slot)
{
    char *end;
    unsigned long x;

    if (!*v || *v == '-' || *v == '+')
        return 0;
    errno = 0;
    x = strtoul(v, &end, 10);
    if (errno || *end || x < 1 || x > CONFIG_SLOT_MAX)
        return 0;
    *slot = (unsigned int)x;
    return 1;
}

static int id_taken(const struct vm_config *cfg, const char *id)
{
    for (unsigned int i = 0; i < cfg->ndisks; i++)
        if (!strcmp(cfg->disks[i].id, id))
            return 1;
    for (unsigned int i = 0; i < cfg->nnets; i++)
        if (!strcmp(cfg->nets[i].id, id))
            return 1;
    return 0;
}

static int disk_item(struct config_disk *d, const char *key,
                     const char *val, const char *arg, char *err,
                     size_t errlen)
{
    if (!strcmp(key, "path") && val[0] && strlen(val) < sizeof(d->path)) {
        memcpy(d->path, val, strlen(val) + 1);
    } else if (!strcmp(key, "readonly") && !val[0]) {
        d->readonly = 1;
    } else if (!strcmp(key, "id") && valid_id(val)) {
        memcpy(d->id, val, strlen(val) + 1);    /* < CONFIG_ID_MAX */
    } else if (!strcmp(key, "slot") && config_parse_slot(val, &d->slot)) {
    } else if (!strcmp(key, "id")) {
        snprintf(err, errlen, "--disk '%s': id must be 1-%d characters of "
                 "A-Z a-z 0-9 _ . -", arg, CONFIG_ID_MAX - 1);
        return -EINVAL;
    } else {
        snprintf(err, errlen, "--disk '%s': unknown or empty '%s' (use "
                 "path=FILE[,readonly][,id=NAME][,slot=1-31])", arg, key);
        return -EINVAL;
    }
    return 0;
}

int config_parse_disk(const char *arg, struct vm_config *cfg, char *err,
                      size_t errlen)
{
    struct config_disk d = { .readonly = 0 };
    char key[16], val[CONFIG_PATH_MAX];
    const char *s = arg;

    if (cfg->ndisks >= CONFIG_MAX_DISKS) {
        snprintf(err, errlen, "--disk: at most %d disks", CONFIG_MAX_DISKS);
        return -EINVAL;
    }
    while (*s) {
        if (next_item(&s, key, sizeof(key), val, sizeof(val)) < 0) {
            snprintf(err, errlen, "--disk '%s': item too long", arg);
            return -EINVAL;
        }
        if (disk_item(&d, key, val, arg, err, errlen) < 0)
            return -EINVAL;
    }
    if (!d.path[0]) {
        snprintf(err, errlen, "--disk '%s': no path=FILE", arg);
        return -EINVAL;
    }
    if (!d.id[0])
        snprintf(d.id, sizeof(d.id), "disk%u", cfg->ndisks);
    if (id_taken(cfg, d.id)) {
        snprintf(err, errlen, "--disk '%s': duplicate id '%s'", arg, d.id);
        return -EINVAL;
    }
    cfg->disks[cfg->ndisks++] = d;
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char tail;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &tail) != 6 || strlen(s) != 17)
        return -EINVAL;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return (mac[0] & 1) ? -EINVAL : 0;  /* multicast bit */
}

static int net_item(struct config_net *n, const char *key, const char *val,
                    const char *arg, char *err, size_t errlen)
{
    if (!strcmp(key, "tap") && val[0] && strlen(val) < CONFIG_TAP_MAX &&
        !strchr(val, '/')) {
        memcpy(n->tap, val, strlen(val) + 1);
    } else if (!strcmp(key, "mac") && parse_mac(val, n->mac) == 0) {
        n->has_mac = 1;
    } else if (!strcmp(key, "mac")) {
        snprintf(err, errlen, "--net '%s': mac must be a unicast "
                 "XX:XX:XX:XX:XX:XX", arg);
        return -EINVAL;
    } else {
        snprintf(err, errlen, "--net '%s': bad '%s' (use tap=NAME[,mac="
                 "MAC]; NAME up to %d characters)", arg, key,
                 CONFIG_TAP_MAX - 1);
        return -EINVAL;
    }
    return 0;
}

int config_parse_net(const char *arg, struct vm_config *cfg, char *err,
                     size_t errlen)
{
    struct config_net n = { .has_mac = 0 };
    char key[16], val[64];
    const char *s = arg;

    if (cfg->nnets >= CONFIG_MAX_NETS) {
        snprintf(err, errlen, "--net: at most %d", CONFIG_MAX_NETS);
        return -EINVAL;
    }
    while (*s) {
        if (next_item(&s, key, sizeof(key), val, sizeof(val)) < 0) {
            snprintf(err, errlen, "--net '%s': item too long", arg);
            return -EINVAL;
        }
        if (net_item(&n, key, val, arg, err, errlen) < 0)
            return -EINVAL;
    }
    if (!n.tap[0]) {
        snprintf(err, errlen, "--net '%s': no tap=NAME", arg);
        return -EINVAL;
    }
    for (unsigned int i = 0; i < cfg->nnets; i++) {
        if (!strcmp(cfg->nets[i].tap, n.tap)) {
            snprintf(err, errlen, "--net '%s': tap '%s' used twice", arg,
                     n.tap);
            return -EINVAL;
        }
    }
    snprintf(n.id, sizeof(n.id), "net%u", cfg->nnets);
    if (id_taken(cfg, n.id)) {
        snprintf(err, errlen, "--net '%s': duplicate id '%s'", arg, n.id);
        return -EINVAL;
    }
    cfg->nets[cfg->nnets++] = n;
    return 0;
}
