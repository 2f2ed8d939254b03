/* SPDX-License-Identifier: BSD-3-Clause */
/* The seccomp allow-lists, one table per concern, combined per thread kind
 * (docs/security.md, "seccomp"). Found by running make check-payload, make
 * check-interop and the Linux-guest tests with --seccomp=log and reading the
 * kernel's audit lines (type=1326; comm= names the thread: vcpuN, migration,
 * snap-writer, minivmm, vfu-blk, uffd-fault, uffd-load); ioctl requests with
 * strace -f. Adding a feature: add its syscalls to the narrowest table that
 * fits, saying why in a comment, and check with --seccomp=log. */
#include <fcntl.h>
#include <stddef.h>

#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>

#include "vmm/seccomp_policy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define S(name) { name, 0, 0, NULL, 0 }

/* glibc, pthreads, malloc, stdio, signals: every thread. */
static const struct sc_rule runtime[] = {
    S("read"), S("write"), S("readv"), S("writev"), S("close"),
    S("futex"), S("mmap"), S("munmap"), S("mprotect"), S("madvise"),
    S("mremap"), S("brk"), S("rt_sigreturn"), S("rt_sigprocmask"),
    S("sigaltstack"), S("exit"), S("exit_group"), S("clock_gettime"),
    S("clock_nanosleep"), S("nanosleep"), S("gettid"), S("getpid"),
    S("tgkill"), S("sched_yield"), S("restart_syscall"),
    S("set_robust_list"), S("rseq"), S("getrandom"), S("fstat"),
    S("newfstatat"), S("lseek"), S("fcntl"), S("prctl"),
};

/* Waiting: the event loop, vfio-user reply deadlines, eventfds. */
static const struct sc_rule waiting[] = {
    S("poll"), S("ppoll"), S("epoll_wait"), S("epoll_pwait"),
    S("epoll_ctl"), S("timerfd_settime"), S("timerfd_gettime"),
};

/* vfio-user messages and migration streams on connected sockets. */
static const struct sc_rule messages[] = {
    S("sendmsg"), S("recvmsg"), S("sendto"), S("recvfrom"),
    S("shutdown"), S("getsockopt"),
};

/* New connections: vfio-user reconnect, migration, API clients. */
static const struct sc_rule connecting[] = {
    S("socket"), S("connect"), S("setsockopt"), S("accept4"),
    S("socketpair"),
};

/* Files: snapshot FILE (mkostemp → openat O_EXCL, pwritev, fsync, rename
 * over FILE, unlink of the temporary on error), disks (virtio-blk I/O). */
static const struct sc_rule files[] = {
    S("openat"), S("pread64"), S("pwrite64"), S("preadv"), S("pwritev"),
    S("fsync"), S("fdatasync"), S("ftruncate"), S("fallocate"),
    S("rename"), S("renameat"), S("unlink"), S("unlinkat"),
    S("io_uring_enter"), S("io_uring_register"),
};

/* Creating threads (snapshot writers, the migration thread) and the fds
 * the event loop creates after set-up (eventfds, memfds, ...). */
static const struct sc_rule making[] = {
    S("clone"), S("clone3"), S("eventfd2"), S("timerfd_create"),
    S("memfd_create"), S("dup"), S("dup3"), S("pipe2"),
    S("sched_getaffinity"), S("getuid"), S("geteuid"),
    /* devices added at run time (device-add): a vfio-user device's epoll
     * set, a disk's io_uring and its file lock */
    S("epoll_create1"), S("io_uring_setup"), S("flock"),
};

/* ioctl, any request: the event loop and the migration thread use many
 * KVM VM and vCPU ioctls (irqfd/ioeventfd, memslots, dirty logs, vCPU
 * state), tap and terminal ioctls. */
static const struct sc_rule ioctl_any[] = { S("ioctl") };

/* The vCPU thread's ioctls: KVM_RUN, and what the exits it handles need:
 * interrupts (IRQ line, MSI routes and irqfds when the guest programs
 * MSI-X), ioeventfds and memslots when it enables a device or moves a
 * BAR, registers and events for the instruction emulator. ioctl's
 * request is an unsigned int in the kernel: only the low 32 bits are
 * compared. */
static const unsigned long vcpu_ioctls[] = {
    KVM_RUN, KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING, KVM_IRQFD,
    KVM_IOEVENTFD, KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG,
    KVM_CLEAR_DIRTY_LOG, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS,
    KVM_SET_SREGS, KVM_TRANSLATE, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
    TUNSETOFFLOAD,      /* virtio-net: the offloads the guest accepted */
};
static const struct sc_rule ioctl_vcpu[] = {
    { "ioctl", 1, 0xffffffffUL, vcpu_ioctls, N(vcpu_ioctls) },
};

/* The migration thread opens only the token file (,token-file=PATH),
 * read-only. */
static const unsigned long rdonly[] = { O_RDONLY };
static const struct sc_rule open_rdonly[] = {
    { "openat", 2, O_ACCMODE | O_CREAT | O_TRUNC, rdonly, N(rdonly) },
};

/* Short EEVDF slices around a migration's stop (vmm/sched_slice.h): the
 * event loop for itself and the vCPU threads, the migration thread for
 * itself; the nice value is read to be kept. */
static const struct sc_rule sched_tune[] = {
    S("sched_setattr"), S("getpriority"),
};

/* Each kind's filter lets its own children install narrower ones. */
static const struct sc_rule filtering[] = { S("seccomp") };

/* AddressSanitizer builds only (make asan): the sanitizer runtime's own
 * syscalls, for every kind: the leak checker at exit stops the threads
 * from a helper task (a clone without CLONE_THREAD: killing "the process"
 * kills only it, and minivmm then waits forever) with ptrace and reads
 * /proc/self with the legacy open/getdents; an error report reads
 * /proc/self/maps and may run a symbolizer. Never in production builds. */
#if defined(__SANITIZE_ADDRESS__)
static const struct sc_rule sanitizer[] = {
    S("ptrace"), S("wait4"), S("waitid"), S("getdents64"), S("openat"),
    S("readlink"), S("readlinkat"), S("getppid"), S("kill"),
    S("rt_sigaction"), S("sched_getaffinity"), S("clone"), S("clone3"),
    S("execve"), S("pipe2"), S("dup2"), S("dup3"), S("prlimit64"),
    S("uname"), S("access"), S("faccessat"), S("statx"), S("prctl"),
    S("open"), S("getdents"), S("stat"), S("lstat"), S("pipe"),
    S("fork"), S("vfork"), S("arch_prctl"), S("sched_setaffinity"),
    S("ioctl"),         /* isatty() before printing a report */
};
#define SANITIZER sanitizer,
#define SANITIZER_N N(sanitizer),
#else
#define SANITIZER
#define SANITIZER_N
#endif

/* Each kind: the tables it may use. */
static const struct sc_rule *const main_l[] = {
    runtime, waiting, messages, connecting, files, making, ioctl_any,
    filtering, sched_tune, SANITIZER NULL,
};
static const unsigned int main_n[] = {
    N(runtime), N(waiting), N(messages), N(connecting), N(files),
    N(making), N(ioctl_any), N(filtering), N(sched_tune), SANITIZER_N
};
static const struct sc_rule *const vcpu_l[] = {
    runtime, waiting, messages, connecting, ioctl_vcpu, SANITIZER NULL,
};
static const unsigned int vcpu_n[] = {
    N(runtime), N(waiting), N(messages), N(connecting), N(ioctl_vcpu),
    SANITIZER_N
};
static const struct sc_rule *const mig_l[] = {
    runtime, waiting, messages, connecting, ioctl_any, open_rdonly,
    sched_tune, SANITIZER NULL,
};
static const unsigned int mig_n[] = {
    N(runtime), N(waiting), N(messages), N(connecting), N(ioctl_any),
    N(open_rdonly), N(sched_tune), SANITIZER_N
};
/* vfu-blk: one client, one disk, its event loop (epoll made in run());
 * no new sockets but the accepted client. */
static const struct sc_rule vfu_blk_extra[] = {
    S("epoll_create1"), S("accept4"), S("pread64"), S("pwrite64"),
    S("preadv"), S("pwritev"), S("fsync"), S("fdatasync"),
    S("io_uring_enter"), S("io_uring_register"),
    S("socketpair"),    /* the server→client "twin" channel */
    S("setsockopt"),    /* its SO_SNDBUF (vfio/proto/conn.c) */
    S("eventfd2"),      /* ioeventfds handed to the client */
    /* --stats-file: a periodic timerfd made in run(), the JSON written to
     * a temporary file (fopen → openat, write) renamed over PATH */
    S("timerfd_create"), S("openat"), S("rename"), S("renameat"),
    S("unlink"),
};
static const struct sc_rule *const vfu_blk_l[] = {
    runtime, waiting, messages, vfu_blk_extra, SANITIZER NULL,
};
static const unsigned int vfu_blk_n[] = {
    N(runtime), N(waiting), N(messages), N(vfu_blk_extra), SANITIZER_N
};

/* On-demand restore (minivmm/persist/snapshot_lazy.c): the fault thread
 * polls the userfaultfd and its stop eventfd, reads fault messages, reads
 * pages from the snapshot file and places them; the loader does the same
 * in file order, then unregisters guest RAM and joins the fault thread.
 * The userfaultfd itself is made before any thread starts. */
static const unsigned long uffd_ioctls[] = {
    UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_WAKE, UFFDIO_UNREGISTER,
};
static const struct sc_rule restore_extra[] = {
    S("pread64"),
    { "ioctl", 1, 0xffffffffUL, uffd_ioctls, N(uffd_ioctls) },
};
static const struct sc_rule *const restore_l[] = {
    runtime, waiting, restore_extra, SANITIZER NULL,
};
static const unsigned int restore_n[] = {
    N(runtime), N(waiting), N(restore_extra), SANITIZER_N
};

static const struct sc_policy policies[SC_T_COUNT] = {
    [SC_T_MAIN] = { main_l, main_n },
    [SC_T_VCPU] = { vcpu_l, vcpu_n },
    [SC_T_MIGRATION] = { mig_l, mig_n },
    [SC_T_VFU_BLK] = { vfu_blk_l, vfu_blk_n },
    [SC_T_RESTORE] = { restore_l, restore_n },
};

const struct sc_policy *sc_policy(enum sc_thread t)
{
    return (unsigned int)t < SC_T_COUNT ? &policies[t] : NULL;
}
