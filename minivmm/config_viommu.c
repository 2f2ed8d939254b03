/* SPDX-License-Identifier: BSD-3-Clause */
/* --viommu parsing (see config.h; docs/viommu.md). Pure. */
#include "minivmm/config_viommu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/host_iommu.h"

static int viommu_key(const char *k, const char *v, struct config_viommu *o)
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

int config_parse_viommu(const char *arg, struct vm_config *cfg, char *err,
                        size_t errlen)
{
    struct config_viommu o = { .on = true,
                               .input_bits = CONFIG_VIOMMU_INPUT_BITS,
                               .page_size = 4096 };
    char *dup = strdup(arg), *save = NULL, *tok;
    int r = dup ? 0 : -ENOMEM;

    tok = dup ? strtok_r(dup, ",", &save) : NULL;
    if (r == 0 && (!tok || strcmp(tok, "virtio"))) {
        snprintf(err, errlen, "--viommu '%s': the only model is 'virtio'",
                 arg);
        r = -EINVAL;
    }
    while (r == 0 && (tok = strtok_r(NULL, ",", &save))) {
        char *eq = strchr(tok, '=');

        if (eq)
            *eq = 0;
        if (!eq || viommu_key(tok, eq + 1, &o)) {
            snprintf(err, errlen, "--viommu '%s': bad '%s%s%s' (input-bits="
                     "12..64, page-size=4K|64K|2M|..|1G)", arg, tok,
                     eq ? "=" : "", eq ? eq + 1 : "");
            r = -EINVAL;
        }
    }
    free(dup);
    if (r == 0)
        cfg->viommu = o;
    return r ? -EINVAL : 0;
}

void config_viommu_str(const struct config_viommu *v, char *buf, size_t len)
{
    char ps[16];

    snprintf(buf, len, "virtio,input-bits=%u,page-size=%s", v->input_bits,
             host_iommu_size_str(v->page_size, ps, sizeof(ps)));
}
