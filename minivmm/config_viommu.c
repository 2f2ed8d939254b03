/* SPDX-License-Identifier: BSD-3-Clause */
/* --viommu parsing (see config_viommu.h; docs/viommu.md). Pure. */
#include "minivmm/config_viommu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/host_iommu.h"

/* xAPIC destination IDs 0..254: without interrupt remapping (not
 * emulated by the VT-d unit) a guest cannot address more vCPUs. */
#define VIOMMU_INTEL_MAX_CPUS 255u

static int virtio_key(const char *k, const char *v, struct config_viommu *o)
{
    char *end;
    unsigned long x;

    if (!strcmp(k, "input-bits")) {
        errno = 0;
        x = strtoul(v, &end, 10);
        if (errno || *end || !*v || *v == '-' || x < 12 || x > 64)
            return -EINVAL;
        o->input_bits = (unsigned int)x;
        return 0;
    }
    if (!strcmp(k, "page-size"))
        return host_iommu_size_parse(v, &o->page_size);
    return -EINVAL;
}

/* intel keys; -EPERM for caching-mode=off (its own message). */
static int intel_key(const char *k, const char *v, struct config_viommu *o)
{
    if (!strcmp(k, "aw-bits")) {
        if (strcmp(v, "39") && strcmp(v, "48"))
            return -EINVAL;
        o->aw_bits = (unsigned int)atoi(v);
        return 0;
    }
    if (!strcmp(k, "caching-mode"))
        return !strcmp(v, "on") ? 0 : !strcmp(v, "off") ? -EPERM : -EINVAL;
    return -EINVAL;
}

static int bad_key(const char *arg, const struct config_viommu *o,
                   const char *k, const char *v, int why, char *err,
                   size_t errlen)
{
    if (why == -EPERM)
        snprintf(err, errlen, "--viommu '%s': caching-mode=off: caching "
                 "mode is always on (the unit learns a new mapping only "
                 "from the invalidation the guest sends for it, which it "
                 "sends only in caching mode)", arg);
    else if (o->model == CONFIG_VIOMMU_INTEL)
        snprintf(err, errlen, "--viommu '%s': bad '%s%s%s' (aw-bits=39|48,"
                 " caching-mode=on)", arg, k, v ? "=" : "", v ? v : "");
    else
        snprintf(err, errlen, "--viommu '%s': bad '%s%s%s' (input-bits="
                 "12..64, page-size=4K|64K|2M|..|1G)", arg, k,
                 v ? "=" : "", v ? v : "");
    return -EINVAL;
}

static int parse_model(const char *tok, struct config_viommu *o)
{
    if (tok && !strcmp(tok, "virtio")) {
        o->model = CONFIG_VIOMMU_VIRTIO;
        return 0;
    }
    if (tok && !strcmp(tok, "intel")) {
        o->model = CONFIG_VIOMMU_INTEL;
        return 0;
    }
    return -EINVAL;
}

int config_parse_viommu(const char *arg, struct vm_config *cfg, char *err,
                        size_t errlen)
{
    struct config_viommu o = { .on = true,
                               .input_bits = CONFIG_VIOMMU_INPUT_BITS,
                               .page_size = 4096,
                               .aw_bits = CONFIG_VIOMMU_AW_BITS };
    char *dup = strdup(arg), *save = NULL, *tok;
    int r = dup ? 0 : -ENOMEM;

    tok = dup ? strtok_r(dup, ",", &save) : NULL;
    if (r == 0 && parse_model(tok, &o)) {
        snprintf(err, errlen, "--viommu '%s': the models are 'virtio' and "
                 "'intel'", arg);
        r = -EINVAL;
    }
    while (r == 0 && (tok = strtok_r(NULL, ",", &save))) {
        char *eq = strchr(tok, '=');
        int k = -EINVAL;

        if (eq)
            *eq = 0;
        if (eq && o.model == CONFIG_VIOMMU_INTEL)
            k = intel_key(tok, eq + 1, &o);
        else if (eq)
            k = virtio_key(tok, eq + 1, &o);
        if (k)
            r = bad_key(arg, &o, tok, eq ? eq + 1 : NULL, k, err, errlen);
    }
    free(dup);
    if (r == 0)
        cfg->viommu = o;
    return r ? -EINVAL : 0;
}

int config_viommu_check(const struct vm_config *cfg, char *err,
                        size_t errlen)
{
    const char *off = NULL;

    if (!cfg->viommu.on || cfg->viommu.model != CONFIG_VIOMMU_INTEL)
        return 0;
    if (cfg->cpus > VIOMMU_INTEL_MAX_CPUS) {
        snprintf(err, errlen, "--cpus %u with --viommu intel: at most %u "
                 "vCPUs (interrupt remapping is not emulated, so the guest "
                 "keeps xAPIC and its 8-bit APIC IDs)", cfg->cpus,
                 VIOMMU_INTEL_MAX_CPUS);
        return -EINVAL;
    }
    for (unsigned int i = 0; !off && i < cfg->ndisks; i++)
        if (cfg->disks[i].iommu_off)
            off = cfg->disks[i].id;
    for (unsigned int i = 0; !off && i < cfg->nvfio; i++)
        if (cfg->vfio[i].iommu_off)
            off = cfg->vfio[i].id;
    if (off) {
        snprintf(err, errlen, "'%s': iommu=off with --viommu intel: the "
                 "DMAR table puts every PCI device behind the VT-d unit "
                 "(INCLUDE_PCI_ALL), so the guest would translate for it",
                 off);
        return -EINVAL;
    }
    return 0;
}

void config_viommu_str(const struct config_viommu *v, char *buf, size_t len)
{
    char ps[16];

    if (v->model == CONFIG_VIOMMU_INTEL) {
        snprintf(buf, len, "intel,aw-bits=%u,caching-mode=on", v->aw_bits);
        return;
    }
    snprintf(buf, len, "virtio,input-bits=%u,page-size=%s", v->input_bits,
             host_iommu_size_str(v->page_size, ps, sizeof(ps)));
}
