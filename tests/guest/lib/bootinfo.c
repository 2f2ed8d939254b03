/* SPDX-License-Identifier: BSD-3-Clause */
/* hvm_start_info access and command-line parsing. */
#include "lib/bootinfo.h"

#include "lib/errno.h"
#include "lib/string.h"

/* GPA from EBX at the PVH entry, saved by entry.S. */
extern uint32_t boot_start_info;

const struct hvm_start_info *bootinfo(void)
{
    const struct hvm_start_info *si =
        (const struct hvm_start_info *)(uintptr_t)boot_start_info;

    if (!si || si->magic != HVM_START_MAGIC)
        return NULL;
    return si;
}

const char *bootinfo_cmdline(void)
{
    const struct hvm_start_info *si = bootinfo();

    if (!si || !si->cmdline_paddr || si->cmdline_paddr >= (1ULL << 32))
        return "";
    return (const char *)(uintptr_t)si->cmdline_paddr;
}

int cmdline_get(const char *key, char *buf, size_t len)
{
    const char *p = bootinfo_cmdline();
    size_t klen = strlen(key);

    while (*p) {
        const char *w = p;
        size_t n;

        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - w) > klen && !strncmp(w, key, klen) &&
            w[klen] == '=') {
            n = (size_t)(p - w) - klen - 1;
            if (n >= len)
                return -ERANGE;
            memcpy(buf, w + klen + 1, n);
            buf[n] = '\0';
            return 0;
        }
        while (*p == ' ')
            p++;
    }
    return -ENOENT;
}

int cmdline_get_u64(const char *key, uint64_t *out)
{
    char buf[32];
    const char *end;
    int r = cmdline_get(key, buf, sizeof(buf));

    if (r < 0)
        return r;
    if (str_to_u64(buf, &end, out) < 0 || *end)
        return -EINVAL;
    return 0;
}
