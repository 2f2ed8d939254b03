/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for vmm/seccomp.c, vmm/seccomp_policy.c and vmm/privdrop.c:
 * every table entry names a real syscall, no kind allows the syscalls it
 * must never make, a loaded filter kills a forked child on a forbidden
 * syscall (and on a vCPU ioctl outside its request list) but not on an
 * allowed one, --seccomp/--user parsing. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/kvm.h>
#include <seccomp.h>

#include "minivmm/config.h"
#include "minivmm/privdrop.h"
#include "vmm/seccomp.h"
#include "vmm/seccomp_bpf.h"
#include "vmm/seccomp_build.h"

/* Does @t's policy name @sys at all? */
static int allows(enum sc_thread t, const char *sys)
{
    const struct sc_policy *p = sc_policy(t);

    for (unsigned int l = 0; p->lists[l]; l++)
        for (unsigned int i = 0; i < p->counts[l]; i++)
            if (!strcmp(p->lists[l][i].name, sys))
                return 1;
    return 0;
}

static void test_tables_resolve(void **state)
{
    (void)state;
    for (int t = 0; t < SC_T_COUNT; t++) {
        const struct sc_policy *p = sc_policy((enum sc_thread)t);

        assert_non_null(p);
        for (unsigned int l = 0; p->lists[l]; l++)
            for (unsigned int i = 0; i < p->counts[l]; i++)
                assert_int_not_equal(
                    seccomp_syscall_resolve_name(p->lists[l][i].name),
                    __NR_SCMP_ERROR);
    }
    assert_null(sc_policy(SC_T_COUNT));
}

static void test_never_allowed(void **state)
{
    static const char *const never[] = {
        "execve", "execveat", "ptrace", "reboot", "mount", "kexec_load",
        "init_module", "bpf", "setuid", "chmod", "bind", "listen", "fork",
    };

    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* make asan adds the sanitizer runtime's syscalls */
#endif
    for (int t = 0; t < SC_T_COUNT; t++)
        for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
            assert_false(allows((enum sc_thread)t, never[i]));
    /* Only the event loop creates files and threads. */
    assert_true(allows(SC_T_MAIN, "clone3"));
    assert_false(allows(SC_T_VCPU, "clone3"));
    assert_false(allows(SC_T_VCPU, "openat"));
    assert_false(allows(SC_T_MIGRATION, "unlink"));
    assert_false(allows(SC_T_VFU_BLK, "socket"));
}

/* Fork; the child installs @t's filter (@mode), then @fn; the child's
 * wait status. */
static int in_child(enum sc_thread t, enum sc_mode mode, void (*fn)(void))
{
    int st = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        if (sc_install(t, mode) < 0)
            _exit(90);
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void call_reboot(void)
{
    syscall(SYS_reboot, 0L, 0L, 0L, NULL); /* bad magic: does nothing */
}

static void call_kvm_run(void)
{
    if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
        _exit(91);
}

static void call_tcgets(void)
{
    struct termios tio;

    ioctl(-1, TCGETS, &tio);
}

static void test_filter_kills(void **state)
{
    int st;

    (void)state;
    for (int t = 0; t < SC_T_COUNT; t++) {
        st = in_child((enum sc_thread)t, SC_ON, call_reboot);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
    }
    st = in_child(SC_T_VCPU, SC_LOG, call_reboot);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = in_child(SC_T_VCPU, SC_OFF, call_reboot);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The vCPU thread's ioctl requests: KVM_RUN passes, TCGETS kills. */
    st = in_child(SC_T_VCPU, SC_ON, call_kvm_run);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#if !defined(__SANITIZE_ADDRESS__) /* make asan allows any ioctl */
    st = in_child(SC_T_VCPU, SC_ON, call_tcgets);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
#endif
    st = in_child(SC_T_MAIN, SC_ON, call_tcgets);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The programs compiled at build time are what libseccomp builds from
 * today's tables (a stale build/gen/seccomp_bpf.c would fail here). */
static void test_bpf_current(void **state)
{
    (void)state;
    for (int t = 0; t < SC_T_COUNT; t++)
        for (int log = 0; log < 2; log++) {
            const struct sc_bpf *b = &sc_bpf_progs[t][log];
            scmp_filter_ctx ctx;
            FILE *f = tmpfile();
            long len;

            assert_non_null(f);
            assert_int_equal(sc_build((enum sc_thread)t, log, &ctx), 0);
            assert_int_equal(seccomp_export_bpf(ctx, fileno(f)), 0);
            seccomp_release(ctx);
            len = ftell(f) < 0 ? -1 : (fseek(f, 0, SEEK_END), ftell(f));
            assert_int_equal(len, (long)b->len * (long)sizeof(*b->insns));
            for (unsigned int i = 0; i < b->len; i++) {
                struct sock_filter x;

                assert_int_equal(fseek(f, (long)(i * sizeof(x)), SEEK_SET),
                                 0);
                assert_int_equal(fread(&x, sizeof(x), 1, f), 1);
                assert_memory_equal(&x, &b->insns[i], sizeof(x));
            }
            fclose(f);
        }
    assert_int_equal(sc_install(SC_T_COUNT, SC_ON), -EINVAL);
    assert_int_equal(sc_build(SC_T_COUNT, 0, &(scmp_filter_ctx){ 0 }),
                     -EINVAL);
}

static void test_mode_parse(void **state)
{
    enum sc_mode m = SC_OFF;

    (void)state;
    assert_int_equal(sc_mode_parse("on", &m), 0);
    assert_int_equal(m, SC_ON);
    assert_int_equal(sc_mode_parse("log", &m), 0);
    assert_int_equal(m, SC_LOG);
    assert_int_equal(sc_mode_parse("off", &m), 0);
    assert_int_equal(m, SC_OFF);
    assert_int_equal(sc_mode_parse("ON", &m), -EINVAL);
    assert_int_equal(sc_mode_parse("", &m), -EINVAL);
    assert_string_equal(sc_thread_name(SC_T_VCPU), "vcpu");
}

static void test_config(void **state)
{
    char *ok[] = { "minivmm", "--kernel", "k", "--seccomp=log", "--user",
                   "nobody", "--group", "nogroup", NULL };
    char *dflt[] = { "minivmm", "--kernel", "k", NULL };
    char *bad[] = { "minivmm", "--kernel", "k", "--seccomp=maybe", NULL };
    struct vm_config cfg;
    char err[256];

    (void)state;
    assert_int_equal(config_parse(8, ok, &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.seccomp, SC_LOG);
    assert_string_equal(cfg.user, "nobody");
    assert_string_equal(cfg.group, "nogroup");
    optind = 0;
    assert_int_equal(config_parse(3, dflt, &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.seccomp, SC_ON);
    assert_null(cfg.user);
    optind = 0;
    assert_int_equal(config_parse(4, bad, &cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--seccomp maybe"));
}

static void test_priv_resolve(void **state)
{
    struct priv_ids ids;
    char err[128];

    (void)state;
    assert_int_equal(priv_resolve(NULL, NULL, &ids, err, sizeof(err)), 0);
    assert_false(ids.has_uid || ids.has_gid);
    assert_int_equal(priv_drop(&ids, err, sizeof(err)), 0); /* nothing */
    assert_int_equal(priv_resolve("root", NULL, &ids, err, sizeof(err)), 0);
    assert_true(ids.has_uid && ids.uid == 0 && ids.has_gid && ids.gid == 0);
    assert_int_equal(priv_resolve("54321", "54322", &ids, err,
                                  sizeof(err)), 0);
    assert_true(ids.uid == 54321 && ids.gid == 54322);
    assert_int_equal(priv_resolve("no-such-user-xyz", NULL, &ids, err,
                                  sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no such user"));
    assert_int_equal(priv_resolve(NULL, "no-such-group-xyz", &ids, err,
                                  sizeof(err)), -EINVAL);
    assert_int_equal(priv_resolve("54321", NULL, &ids, err, sizeof(err)),
                     -EINVAL); /* no passwd entry: which group? */
    assert_int_equal(priv_resolve("-1", NULL, &ids, err, sizeof(err)),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_resolve),
        cmocka_unit_test(test_never_allowed),
        cmocka_unit_test(test_filter_kills),
        cmocka_unit_test(test_bpf_current),
        cmocka_unit_test(test_mode_parse),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_priv_resolve),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
