/* SPDX-License-Identifier: BSD-3-Clause */
/* Loading the per-thread seccomp filters, compiled to BPF at build time
 * (vmm/seccomp_bpf.h), with seccomp(2). */
#include <errno.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/seccomp.h"
#include "vmm/seccomp_bpf.h"

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

int sc_install(enum sc_thread t, enum sc_mode mode)
{
    const struct sc_bpf *b;
    struct sock_fprog prog;

    if (mode == SC_OFF)
        return 0;
    if ((unsigned int)t >= SC_T_COUNT)
        return -EINVAL;
    b = &sc_bpf_progs[t][mode == SC_LOG];
    prog = (struct sock_fprog){ .len = b->len,
                                .filter = (struct sock_filter *)b->insns };
    /* What seccomp_load(3) does with a default context: no_new_privs,
     * then the filter, no flags. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return -errno;
    sc_probe_hook(t);
    return 0;
}
