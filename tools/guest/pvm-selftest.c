/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pvm-selftest: exercises tools/guest/pvm-syscall.patch on any host.
 *
 * On kvm_pvm, SYSCALL leaves the CPU in user mode at entry_SYSCALL_64 with
 * RCX = return address and R11 = RFLAGS, and the guest kernel takes a user
 * page fault there. This program produces exactly that state without
 * kvm_pvm: it loads RCX/R11 itself and jumps to entry_SYSCALL_64 (address
 * from the kernel's System.map, passed as argv[1]). A patched kernel runs it
 * as a system call and returns to the label after the jump; an unpatched one
 * kills the program with SIGSEGV.
 *
 * Freestanding (no libc): built by tools/guest/build-kit.sh with
 *   cc -static -nostdlib -ffreestanding -fno-stack-protector -mno-red-zone -O2
 * and installed in the initrd as /bin/pvm-selftest (tests/pvm_syscall.sh).
 * Prints "PVM-SELFTEST PASS" and exits 0 when every check holds.
 */
typedef unsigned long u64;

#define NR_write 1
#define NR_getpid 39
#define NR_fork 57
#define NR_exit 60
#define NR_wait4 61

static u64 entry;   /* entry_SYSCALL_64 */

/* A real SYSCALL instruction. */
static long sys3(long nr, long a1, long a2, long a3)
{
    long ret;

    register long a4 __asm__("r10") = 0;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(a4)
                     : "rcx", "r11", "memory");
    return ret;
}

/* What kvm_pvm makes of SYSCALL: RCX/R11 loaded, RIP = MSR_LSTAR, CPL 3. */
static long pvm3(long nr, long a1, long a2, long a3)
{
    long ret;
    register long a4 __asm__("r10") = 0;   /* e.g. wait4's rusage */

    __asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
                     "pushfq\n\t"
                     "popq %%r11\n\t"
                     "jmp *%[entry]\n"
                     "1:"
                     : "=a"(ret)
                     : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(a4),
                       [entry] "r"(entry)
                     : "rcx", "r11", "memory", "cc");
    return ret;
}

static u64 slen(const char *s)
{
    u64 n = 0;

    while (s[n])
        n++;
    return n;
}

static void say(const char *s)
{
    sys3(NR_write, 1, (long)s, (long)slen(s));
}

static void say_num(const char *label, long v)
{
    char buf[32];
    int i = sizeof(buf) - 1;
    int neg = v < 0;
    u64 u = neg ? -(u64)v : (u64)v;

    buf[i] = 0;
    do {
        buf[--i] = '0' + u % 10;
        u /= 10;
    } while (u);
    if (neg)
        buf[--i] = '-';
    say(label);
    say(buf + i);
    say("\n");
}

static int fail(const char *what)
{
    say("PVM-SELFTEST FAIL ");
    say(what);
    say("\n");
    return 1;
}

static int run(int argc, char **argv)
{
    const char *p;
    long pid, fpid, child, status = -1, r;
    static const char msg[] = "PVM-SELFTEST write through the emulated path\n";

    if (argc < 2)
        return fail("usage: pvm-selftest ENTRY_SYSCALL_64_HEX");
    p = argv[1];
    if (p[0] == '0' && p[1] == 'x')
        p += 2;
    for (; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0'
              : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            return fail("bad address");
        entry = entry << 4 | (u64)d;
    }
    if (!entry)
        return fail("bad address");

    pid = sys3(NR_getpid, 0, 0, 0);
    fpid = pvm3(NR_getpid, 0, 0, 0);
    say_num("PVM-SELFTEST getpid syscall=", pid);
    say_num("PVM-SELFTEST getpid emulated=", fpid);
    if (pid != fpid)
        return fail("getpid");

    r = pvm3(NR_write, 1, (long)msg, sizeof(msg) - 1);
    if (r != (long)sizeof(msg) - 1)
        return fail("write");

    r = pvm3(-1, 0, 0, 0);
    if (r != -38)   /* -ENOSYS */
        return fail("invalid syscall number");

    /* fork: the child returns through ret_from_fork with copied regs. */
    child = pvm3(NR_fork, 0, 0, 0);
    if (child == 0) {
        say("PVM-SELFTEST child running\n");
        pvm3(NR_exit, 42, 0, 0);
        for (;;)
            ;
    }
    if (child < 0)
        return fail("fork");
    r = pvm3(NR_wait4, child, (long)&status, 0);
    if (r != child || (status & 0x7f) != 0 || ((status >> 8) & 0xff) != 42) {
        say_num("PVM-SELFTEST wait4=", r);
        say_num("PVM-SELFTEST status=", status);
        return fail("fork/exit/wait4");
    }
    say("PVM-SELFTEST PASS\n");
    return 0;
}

/* Entry: RSP points at argc, then argv. */
__attribute__((used)) void start_c(long *sp);
__attribute__((used)) void start_c(long *sp)
{
    int rc = run((int)sp[0], (char **)(sp + 1));

    sys3(NR_exit, rc, 0, 0);
    for (;;)
        ;
}

__asm__(".globl _start\n"
        "_start:\n\t"
        "mov %rsp, %rdi\n\t"
        "and $-16, %rsp\n\t"
        "call start_c\n\t"
        "hlt\n");
