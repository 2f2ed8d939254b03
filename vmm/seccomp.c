/* SPDX-License-Identifier: BSD-3-Clause */
/* Building and loading the per-thread seccomp filters with libseccomp
 * (seccomp(2), seccomp_rule_add(3)). */
#include <errno.h>
#include <string.h>

#include <seccomp.h>

#include "vmm/seccomp.h"

static const char *const thread_names[SC_T_COUNT] = {
    [SC_T_MAIN] = "main", [SC_T_VCPU] = "vcpu",
    [SC_T_MIGRATION] = "migration", [SC_T_VFU_BLK] = "vfu-blk",
    [SC_T_RESTORE] = "restore",
};

const char *sc_thread_name(enum sc_thread t)
{
    return (unsigned int)t < SC_T_COUNT ? thread_names[t] : "?";
}

int sc_mode_parse(const char *s, enum sc_mode *out)
{
    if (!strcmp(s, "on"))
        *out = SC_ON;
    else if (!strcmp(s, "log"))
        *out = SC_LOG;
    else if (!strcmp(s, "off"))
        *out = SC_OFF;
    else
        return -EINVAL;
    return 0;
}

__attribute__((weak)) void sc_probe_hook(enum sc_thread t)
{
    (void)t;
}

/* Add one table entry to @ctx. 0 or -errno. */
static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r)
{
    int nr = seccomp_syscall_resolve_name(r->name);

    if (nr == __NR_SCMP_ERROR)
        return -EINVAL;
    if (!r->nvals)
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    for (unsigned int i = 0; i < r->nvals; i++) {
        struct scmp_arg_cmp c = {
            .arg = r->arg, .op = SCMP_CMP_MASKED_EQ,
            .datum_a = r->mask, .datum_b = r->vals[i],
        };
        int e = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);

        if (e < 0)
            return e;
    }
    return 0;
}

int sc_install(enum sc_thread t, enum sc_mode mode)
{
    const struct sc_policy *p = sc_policy(t);
    scmp_filter_ctx ctx;
    int r = 0;

    if (mode == SC_OFF)
        return 0;
    if (!p)
        return -EINVAL;
    ctx = seccomp_init(mode == SC_LOG ? SCMP_ACT_LOG :
                       SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return -ENOMEM;
    for (unsigned int l = 0; r == 0 && p->lists[l]; l++)
        for (unsigned int i = 0; r == 0 && i < p->counts[l]; i++)
            r = add_rule(ctx, &p->lists[l][i]);
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r == 0)
        sc_probe_hook(t);
    return r;
}
