/* SPDX-License-Identifier: BSD-3-Clause */
/* Batched KVM_SET_MSRS (see msrs.h). */
#include "arch/x86/msrs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/kvm.h"

int x86_set_msrs(int vcpu_fd, const struct kvm_msr_entry *e, uint32_t n,
                 x86_msr_refused_fn refused, void *opaque)
{
    uint32_t cap = n < X86_MSRS_BATCH ? n : X86_MSRS_BATCH, i = 0, set = 0;
    struct kvm_msrs *m;

    if (n == 0)
        return 0;
    m = calloc(1, sizeof(*m) + cap * sizeof(m->entries[0]));
    if (!m)
        return -ENOMEM;
    while (i < n) {
        uint32_t k = n - i < cap ? n - i : cap;
        int r;

        m->nmsrs = k;
        memcpy(m->entries, &e[i], k * sizeof(e[0]));
        r = kvm_vcpu_ioctl(vcpu_fd, KVM_SET_MSRS, m);
        if (r < 0) {
            free(m);
            return r;
        }
        if ((uint32_t)r > k)
            r = (int)k; /* not from a KVM that keeps to its API */
        set += (uint32_t)r;
        i += (uint32_t)r;
        if ((uint32_t)r < k) { /* entry i refused: skip it */
            if (refused)
                refused(opaque, e[i].index);
            i++;
        }
    }
    free(m);
    return (int)set;
}
