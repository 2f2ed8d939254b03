/* SPDX-License-Identifier: BSD-3-Clause */
/* Filters from the policy tables (see seccomp_build.h; seccomp_rule_add(3)). */
#include "vmm/seccomp_build.h"

#include <errno.h>
#include <stddef.h>

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

int sc_build(enum sc_thread t, int log, scmp_filter_ctx *out)
{
    const struct sc_policy *p = sc_policy(t);
    scmp_filter_ctx ctx;
    int r = 0;

    *out = NULL;
    if (!p)
        return -EINVAL;
    ctx = seccomp_init(log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return -ENOMEM;
    for (unsigned int l = 0; r == 0 && p->lists[l]; l++)
        for (unsigned int i = 0; r == 0 && i < p->counts[l]; i++)
            r = add_rule(ctx, &p->lists[l][i]);
    if (r < 0) {
        seccomp_release(ctx);
        return r;
    }
    *out = ctx;
    return 0;
}
