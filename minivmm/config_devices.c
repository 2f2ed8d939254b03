/* SPDX-License-Identifier: BSD-3-Clause */
/* --disk, --net and --vfio-user parsing (see config_devices.h). */
#include "minivmm/config_devices.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/kvopts.h"

#define RECONNECT_MAX 3600u
#define TIMEOUT_MAX_MS 600000u

/* Split @arg of option @opt into @kv and apply it to @dst through @keys
 * (vmm/kvopts.h). 0; 1 when item *@bad is refused (unknown key or bad
 * value: the caller words why); -EINVAL with the reason in @err when @arg
 * cannot be split or names a key twice. */
static int parse_kv(const char *opt, const char *arg, struct kvopts *kv,
                    const struct kvopt_spec *keys, void *dst,
                    const struct kvopt **bad, char *err, size_t errlen)
{
    int r = kvopts_split(arg, kv);

    if (r == -E2BIG)
        snprintf(err, errlen, "%s '%s': item too long or too many items "
                 "(at most %d bytes, %d items)", opt, arg, KVOPTS_MAX_LEN,
                 KVOPTS_MAX_ITEMS);
    else if (r < 0)
        snprintf(err, errlen, "%s '%s': empty item or key (a ',' inside "
                 "a value is written ',,')", opt, arg);
    if (r < 0)
        return -EINVAL;
    r = kvopts_apply(kv, keys, dst, 0, bad);
    if (r == -EEXIST)
        snprintf(err, errlen, "%s '%s': '%s' given twice", opt, arg,
                 (*bad)->key);
    return r == -EEXIST ? -EINVAL : r < 0 ? 1 : 0;
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n >= CONFIG_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
            return false;
    return true;
}

/* KVOPT_FN for id=NAME: @field is a char[CONFIG_ID_MAX]. */
static int id_fn(const char *val, void *field)
{
    if (!val || !valid_id(val))
        return -EINVAL;
    memcpy(field, val, strlen(val) + 1);
    return 0;
}

/* KVOPT_FN for iommu=on|off: @field is an int, 1 for off. */
static int iommu_fn(const char *val, void *field)
{
    if (!val || (strcmp(val, "on") && strcmp(val, "off")))
        return -EINVAL;
    *(int *)field = !strcmp(val, "off");
    return 0;
}

static const struct kvopt_spec disk_keys[] = {
    { "path", KVOPT_STR, offsetof(struct config_disk, path),
      CONFIG_PATH_MAX, 0, 0, NULL },
    { "readonly", KVOPT_FLAG, offsetof(struct config_disk, readonly), 0, 0,
      0, NULL },
    { "id", KVOPT_FN, offsetof(struct config_disk, id), 0, 0, 0, id_fn },
    { "iommu", KVOPT_FN, offsetof(struct config_disk, iommu_off), 0, 0, 0,
      iommu_fn },
    { NULL, 0, 0, 0, 0, 0, NULL },
};

int config_disk_parse(const char *arg, struct config_disk *d, char *err,
                      size_t errlen)
{
    const struct kvopt *bad = NULL;
    struct kvopts kv;
    int r;

    memset(d, 0, sizeof(*d));
    r = parse_kv("--disk", arg, &kv, disk_keys, d, &bad, err, errlen);
    if (r < 0)
        return r;
    if (r && !strcmp(bad->key, "id"))
        snprintf(err, errlen, "--disk '%s': id must be 1-%d characters of "
                 "A-Z a-z 0-9 _ . -", arg, CONFIG_ID_MAX - 1);
    else if (r)
        snprintf(err, errlen, "--disk '%s': unknown or empty '%s' (use "
                 "path=FILE[,readonly][,id=NAME][,iommu=on|off])", arg, bad->key);
    else if (!d->path[0])
        snprintf(err, errlen, "--disk '%s': no path=FILE", arg);
    return r || !d->path[0] ? -EINVAL : 0;
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

/* KVOPT_FN for mac=: @field is the struct config_net. */
static int mac_fn(const char *val, void *field)
{
    struct config_net *n = field;

    if (!val || parse_mac(val, n->mac) < 0)
        return -EINVAL;
    n->has_mac = 1;
    return 0;
}

/* KVOPT_FN for tap=: an interface name (char[CONFIG_TAP_MAX]). */
static int tap_fn(const char *val, void *field)
{
    if (!val || !val[0] || strlen(val) >= CONFIG_TAP_MAX || strchr(val, '/'))
        return -EINVAL;
    memcpy(field, val, strlen(val) + 1);
    return 0;
}

static const struct kvopt_spec net_keys[] = {
    { "tap", KVOPT_FN, offsetof(struct config_net, tap), 0, 0, 0, tap_fn },
    { "mac", KVOPT_FN, 0, 0, 0, 0, mac_fn },
    { NULL, 0, 0, 0, 0, 0, NULL },
};

int config_net_parse(const char *arg, struct config_net *n, char *err,
                     size_t errlen)
{
    const struct kvopt *bad = NULL;
    struct kvopts kv;
    int r;

    memset(n, 0, sizeof(*n));
    r = parse_kv("--net", arg, &kv, net_keys, n, &bad, err, errlen);
    if (r < 0)
        return r;
    if (r && !strcmp(bad->key, "mac"))
        snprintf(err, errlen, "--net '%s': mac must be a unicast "
                 "XX:XX:XX:XX:XX:XX", arg);
    else if (r)
        snprintf(err, errlen, "--net '%s': bad '%s' (use tap=NAME[,mac="
                 "MAC]; NAME up to %d characters)", arg, bad->key,
                 CONFIG_TAP_MAX - 1);
    else if (!n->tap[0])
        snprintf(err, errlen, "--net '%s': no tap=NAME", arg);
    return r || !n->tap[0] ? -EINVAL : 0;
}

/* KVOPT_FN for dma=fd|message: @field is an int (1: message). */
static int dma_fn(const char *val, void *field)
{
    if (!val || (strcmp(val, "fd") && strcmp(val, "message")))
        return -EINVAL;
    *(int *)field = !strcmp(val, "message");
    return 0;
}

static const struct kvopt_spec vfio_keys[] = {
    { "socket", KVOPT_STR, offsetof(struct config_vfio, socket),
      sizeof(((struct config_vfio *)0)->socket), 0, 0, NULL },
    { "id", KVOPT_FN, offsetof(struct config_vfio, id), 0, 0, 0, id_fn },
    { "dma", KVOPT_FN, offsetof(struct config_vfio, dma_message), 0, 0, 0,
      dma_fn },
    { "reconnect", KVOPT_UINT, offsetof(struct config_vfio, reconnect), 0,
      0, RECONNECT_MAX, NULL },
    { "timeout", KVOPT_UINT, offsetof(struct config_vfio, timeout_ms), 0, 1,
      TIMEOUT_MAX_MS, NULL },
    { "iommu", KVOPT_FN, offsetof(struct config_vfio, iommu_off), 0, 0, 0,
      iommu_fn },
    { NULL, 0, 0, 0, 0, 0, NULL },
};

int config_vfio_parse(const char *arg, struct config_vfio *c, char *err,
                      size_t errlen)
{
    const struct kvopt *bad = NULL;
    struct kvopts kv;
    int r;

    memset(c, 0, sizeof(*c));
    r = parse_kv("--vfio-user", arg, &kv, vfio_keys, c, &bad, err, errlen);
    if (r < 0)
        return r;
    if (r && !bad->val)
        snprintf(err, errlen, "--vfio-user: '%s' is not key=value",
                 bad->key);
    else if (r)
        snprintf(err, errlen, "--vfio-user: bad '%s=%s' (socket=PATH, "
                 "id=NAME, dma=fd|message, reconnect=SECONDS, "
                 "timeout=MS, iommu=on|off)", bad->key, bad->val);
    else if (!c->socket[0])
        snprintf(err, errlen, "--vfio-user '%s': socket=PATH is required",
                 arg);
    return r || !c->socket[0] ? -EINVAL : 0;
}

static bool id_taken(const struct vm_config *cfg, const char *id)
{
    for (unsigned int i = 0; i < cfg->ndisks; i++)
        if (!strcmp(cfg->disks[i].id, id))
            return true;
    for (unsigned int i = 0; i < cfg->nnets; i++)
        if (!strcmp(cfg->nets[i].id, id))
            return true;
    return false;
}

int config_add_disk(const char *arg, struct vm_config *cfg, char *err,
                    size_t errlen)
{
    struct config_disk d;

    if (cfg->ndisks >= CONFIG_MAX_DISKS) {
        snprintf(err, errlen, "--disk: at most %d disks", CONFIG_MAX_DISKS);
        return -EINVAL;
    }
    if (config_disk_parse(arg, &d, err, errlen) < 0)
        return -EINVAL;
    if (!d.id[0])
        snprintf(d.id, sizeof(d.id), "disk%u", cfg->ndisks);
    if (id_taken(cfg, d.id)) {
        snprintf(err, errlen, "--disk '%s': duplicate id '%s'", arg, d.id);
        return -EINVAL;
    }
    cfg->disks[cfg->ndisks++] = d;
    return 0;
}

int config_add_net(const char *arg, struct vm_config *cfg, char *err,
                   size_t errlen)
{
    struct config_net n;

    if (cfg->nnets >= CONFIG_MAX_NETS) {
        snprintf(err, errlen, "--net: at most %d", CONFIG_MAX_NETS);
        return -EINVAL;
    }
    if (config_net_parse(arg, &n, err, errlen) < 0)
        return -EINVAL;
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

int config_add_vfio(const char *arg, struct vm_config *cfg, char *err,
                    size_t errlen)
{
    struct config_vfio c;

    if (cfg->nvfio >= CONFIG_MAX_VFIO) {
        snprintf(err, errlen, "--vfio-user: at most %d devices",
                 CONFIG_MAX_VFIO);
        return -EINVAL;
    }
    if (config_vfio_parse(arg, &c, err, errlen) < 0)
        return -EINVAL;
    if (!c.id[0])
        snprintf(c.id, sizeof(c.id), "vfio%u", cfg->nvfio);
    for (unsigned int i = 0; i < cfg->nvfio; i++) {
        if (!strcmp(cfg->vfio[i].id, c.id)) {
            snprintf(err, errlen, "--vfio-user: duplicate id '%s'", c.id);
            return -EINVAL;
        }
    }
    cfg->vfio[cfg->nvfio++] = c;
    return 0;
}
