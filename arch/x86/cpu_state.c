/* SPDX-License-Identifier: BSD-3-Clause */
/* x86 vCPU state save/load (see cpu_state.h). */
#include "arch/x86/cpu_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>
#include <linux/kvm.h>

#include "arch/x86/msrs.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/state.h"

#define MSR_IA32_TSC          0x10
#define MSR_IA32_TSC_ADJUST   0x3b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_KVM_WALL_CLOCK    0x11
#define MSR_KVM_SYSTEM_TIME   0x12
#define MSR_KVM_PV_FIRST      0x4b564d00
#define MSR_KVM_PV_LAST       0x4b564d06
#define MAX_MSRS              128
#define MAX_CPUID             256

/* Standard MSRs worth restoring, in the order they are set: TSC_ADJUST
 * before TSC (writing TSC from userspace does not touch TSC_ADJUST), the
 * TSC deadline last (KVM drops it unless the LAPIC timer is in
 * TSC-deadline mode, and the LAPIC is loaded before the MSRs). */
static const uint32_t wanted[] = {
    0x3b,        /* IA32_TSC_ADJUST */
    0x10,        /* IA32_TSC */
    0x48,        /* IA32_SPEC_CTRL */
    0x174, 0x175, 0x176, /* SYSENTER_CS/ESP/EIP */
    0x1a0,       /* IA32_MISC_ENABLE */
    0x277,       /* IA32_PAT */
    0xda0,       /* IA32_XSS */
    0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR..SFMASK */
    0xc0000102,  /* KERNEL_GS_BASE */
    0xc0000103,  /* TSC_AUX */
    0x11, 0x12,  /* kvmclock (old numbers) */
};

static int msr_order(uint32_t index)
{
    if (index == MSR_IA32_TSC_DEADLINE)
        return 1000;
    for (unsigned int i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
        if (wanted[i] == index)
            return (int)i;
    return 500;
}

bool x86_msr_wanted(uint32_t index)
{
    if (index == MSR_IA32_TSC_DEADLINE)
        return true;
    if (index >= 0x200 && index <= 0x2ff && index != 0x277)
        return true; /* MTRRs: variable, fixed, default type */
    if (index >= MSR_KVM_PV_FIRST && index <= MSR_KVM_PV_LAST)
        return true;
    return msr_order(index) != 500;
}

/* An ioctl the host may not have: note it and go on. */
static bool unsupported(int r)
{
    return r == -ENOTTY || r == -EINVAL || r == -ENXIO ||
           r == -EOPNOTSUPP;
}

static void add_note(char *note, size_t notelen, const char *what, int r)
{
    size_t n = strlen(note);

    if (n < notelen)
        snprintf(note + n, notelen - n, "%s: %s; ", what, strerror(-r));
}

/* GET ioctl into @buf, then a property @name; an unsupported ioctl is a
 * note, not an error. */
static int save_one(int fd, unsigned long req, const char *name, void *buf,
                    size_t len, void *fdt, int node, char *note,
                    size_t notelen)
{
    int r = kvm_vcpu_ioctl(fd, req, buf);

    if (r < 0) {
        if (!unsupported(r))
            return r;
        add_note(note, notelen, name, r);
        return 0;
    }
    return state_put_bytes(fdt, node, name, buf, len);
}

static int cmp_msr(const void *a, const void *b)
{
    const struct kvm_msr_entry *x = a, *y = b;

    return msr_order(x->index) - msr_order(y->index);
}

static int save_msrs(const struct kvm *kvm, int fd, void *fdt, int node,
                     char *note, size_t notelen)
{
    struct kvm_msr_list *list;
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[MAX_MSRS];
    } *m;
    int r = kvm_get_msr_index_list(kvm, &list);

    if (r < 0) {
        add_note(note, notelen, "msr index list", r);
        return unsupported(r) ? 0 : r;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        free(list);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < list->nmsrs && m->hdr.nmsrs < MAX_MSRS; i++)
        if (x86_msr_wanted(list->indices[i]))
            m->e[m->hdr.nmsrs++].index = list->indices[i];
    qsort(m->e, m->hdr.nmsrs, sizeof(m->e[0]), cmp_msr);
    r = kvm_vcpu_ioctl(fd, KVM_GET_MSRS, m);
    if (r >= 0 && (uint32_t)r < m->hdr.nmsrs) {
        add_note(note, notelen, "some MSRs unreadable", -EINVAL);
        m->hdr.nmsrs = (uint32_t)r; /* KVM stops at the first failure */
    }
    if (r >= 0)
        r = state_put_bytes(fdt, node, "msrs", m->e,
                            m->hdr.nmsrs * sizeof(m->e[0]));
    free(m);
    free(list);
    return r < 0 ? r : 0;
}

static int save_cpuid(int fd, void *fdt, int node, char *note,
                      size_t notelen)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_CPUID *
                                             sizeof(c->entries[0]));
    int r;

    if (!c)
        return -ENOMEM;
    c->nent = MAX_CPUID;
    r = kvm_vcpu_ioctl(fd, KVM_GET_CPUID2, c);
    if (r == 0)
        r = state_put_bytes(fdt, node, "cpuid", c->entries,
                            c->nent * sizeof(c->entries[0]));
    else if (unsupported(r))
        add_note(note, notelen, "cpuid", r), r = 0;
    free(c);
    return r;
}

/* XSAVE2 (larger areas, KVM_CAP_XSAVE2 gives the size) or XSAVE. The FPU
 * is always saved too: it is the fallback when a host refuses XSAVE. */
static int save_xsave(const struct kvm *kvm, int fd, void *fdt, int node,
                      char *note, size_t notelen)
{
    int size = kvm_check_cap(kvm, KVM_CAP_XSAVE2);
    unsigned long req = KVM_GET_XSAVE2;
    void *buf;
    int r;

    if (size < (int)sizeof(struct kvm_xsave)) {
        size = sizeof(struct kvm_xsave);
        req = KVM_GET_XSAVE;
    }
    buf = calloc(1, (size_t)size);
    if (!buf)
        return -ENOMEM;
    r = save_one(fd, req, "xsave", buf, (size_t)size, fdt, node, note,
                 notelen);
    free(buf);
    return r;
}

int x86_cpu_state_save(const struct kvm *kvm, int vcpu_fd, void *fdt,
                       int node, char *note, size_t notelen)
{
    union {
        struct kvm_regs regs;
        struct kvm_sregs sregs;
        struct kvm_fpu fpu;
        struct kvm_xcrs xcrs;
        struct kvm_lapic_state lapic;
        struct kvm_vcpu_events events;
        struct kvm_mp_state mp;
        struct kvm_debugregs dr;
    } u;
    static const struct {
        unsigned long req;
        const char *name;
        size_t len;
    } simple[] = {
        { KVM_GET_REGS, "regs", sizeof(struct kvm_regs) },
        { KVM_GET_SREGS, "sregs", sizeof(struct kvm_sregs) },
        { KVM_GET_FPU, "fpu", sizeof(struct kvm_fpu) },
        { KVM_GET_XCRS, "xcrs", sizeof(struct kvm_xcrs) },
        { KVM_GET_LAPIC, "lapic", sizeof(struct kvm_lapic_state) },
        { KVM_GET_VCPU_EVENTS, "events", sizeof(struct kvm_vcpu_events) },
        { KVM_GET_MP_STATE, "mp-state", sizeof(struct kvm_mp_state) },
        { KVM_GET_DEBUGREGS, "debugregs", sizeof(struct kvm_debugregs) },
    };
    int r = 0;

    for (unsigned int i = 0; r == 0 && i < sizeof(simple) / sizeof(simple[0]);
         i++) {
        memset(&u, 0, sizeof(u));
        r = save_one(vcpu_fd, simple[i].req, simple[i].name, &u,
                     simple[i].len, fdt, node, note, notelen);
    }
    if (r == 0)
        r = save_xsave(kvm, vcpu_fd, fdt, node, note, notelen);
    if (r == 0)
        r = save_msrs(kvm, vcpu_fd, fdt, node, note, notelen);
    if (r == 0)
        r = save_cpuid(vcpu_fd, fdt, node, note, notelen);
    return r;
}

/* Property @name copied into a fresh buffer: 0 with *@out (NULL when the
 * property is absent), -EINVAL when its size is not in [@min, @max]. */
static int get_prop(const void *fdt, int node, const char *name, size_t min,
                    size_t max, void **out, size_t *len, char *err,
                    size_t errlen)
{
    int plen;
    const void *p = fdt_getprop(fdt, node, name, &plen);
    void *buf;

    *out = NULL;
    *len = 0;
    if (!p && plen == -FDT_ERR_NOTFOUND)
        return 0;
    if (!p || plen < 0 || (size_t)plen < min || (size_t)plen > max) {
        snprintf(err, errlen, "vCPU property '%s': %d bytes, want %zu%s",
                 name, p ? plen : -1, min, max > min ? " or more" : "");
        return -EINVAL;
    }
    buf = calloc(1, (size_t)plen + 64);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, p, (size_t)plen);
    *out = buf;
    *len = (size_t)plen;
    return 0;
}

/* SET ioctl from property @name of exactly @size bytes; absent is fine
 * unless @required. */
static int load_one(int fd, unsigned long req, const char *name, size_t size,
                    bool required, const void *fdt, int node, char *err,
                    size_t errlen)
{
    void *buf;
    size_t len;
    int r = get_prop(fdt, node, name, size, size, &buf, &len, err, errlen);

    if (r < 0)
        return r;
    if (!buf) {
        if (!required)
            return 0;
        snprintf(err, errlen, "vCPU state has no '%s'", name);
        return -EINVAL;
    }
    r = kvm_vcpu_ioctl(fd, req, buf);
    if (r < 0)
        snprintf(err, errlen, "restoring vCPU '%s': %s", name, strerror(-r));
    free(buf);
    return r < 0 ? r : 0;
}

static int load_cpuid(int fd, const void *fdt, int node, char *err,
                      size_t errlen)
{
    size_t esz = sizeof(struct kvm_cpuid_entry2), len;
    struct kvm_cpuid2 *c;
    void *buf;
    int r = get_prop(fdt, node, "cpuid", esz, MAX_CPUID * esz, &buf, &len,
                     err, errlen);

    if (r < 0 || !buf)
        return r;
    if (len % esz) {
        free(buf);
        snprintf(err, errlen, "vCPU property 'cpuid': bad size %zu", len);
        return -EINVAL;
    }
    c = calloc(1, sizeof(*c) + len);
    if (!c) {
        free(buf);
        return -ENOMEM;
    }
    c->nent = (uint32_t)(len / esz);
    memcpy(c->entries, buf, len);
    r = kvm_vcpu_ioctl(fd, KVM_SET_CPUID2, c);
    if (r < 0)
        snprintf(err, errlen, "restoring vCPU CPUID: %s", strerror(-r));
    free(c);
    free(buf);
    return r < 0 ? r : 0;
}

/* XSAVE if saved and accepted, else the FPU/SSE state. */
static int load_fpu(int fd, const void *fdt, int node, char *err,
                    size_t errlen)
{
    void *buf;
    size_t len;
    int r = get_prop(fdt, node, "xsave", sizeof(struct kvm_xsave), 1 << 20,
                     &buf, &len, err, errlen);

    if (r < 0)
        return r;
    if (buf) {
        r = kvm_vcpu_ioctl(fd, KVM_SET_XSAVE, buf);
        free(buf);
        if (r == 0)
            return 0;
        log_warn("minivmm: note: KVM_SET_XSAVE: %s; restoring the "
                 "FPU/SSE state only", strerror(-r));
    }
    return load_one(fd, KVM_SET_FPU, "fpu", sizeof(struct kvm_fpu), true,
                    fdt, node, err, errlen);
}

static void msr_refused(void *opaque, uint32_t index)
{
    (void)opaque;
    log_warn("minivmm: note: MSR %#x not restored", index);
}

static int load_msrs(int fd, const void *fdt, int node, char *err,
                     size_t errlen)
{
    size_t esz = sizeof(struct kvm_msr_entry), len;
    void *buf;
    int r = get_prop(fdt, node, "msrs", 0, MAX_MSRS * esz, &buf, &len, err,
                     errlen);

    if (r < 0 || !buf)
        return r;
    if (len % esz) {
        free(buf);
        snprintf(err, errlen, "vCPU property 'msrs': bad size %zu", len);
        return -EINVAL;
    }
    /* In the saved order, batched: an MSR this host refuses is reported
     * and skipped, the others still load (x86_set_msrs). */
    r = x86_set_msrs(fd, buf, (uint32_t)(len / esz), msr_refused, NULL);
    free(buf);
    if (r < 0)
        snprintf(err, errlen, "restoring vCPU MSRs: %s", strerror(-r));
    return r < 0 ? r : 0;
}

static int load_events(int fd, const void *fdt, int node, char *err,
                       size_t errlen)
{
    struct kvm_vcpu_events ev;
    int r = state_get_bytes(fdt, node, "events", &ev, sizeof(ev));

    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        snprintf(err, errlen, "vCPU property 'events': wrong size");
        return -EINVAL;
    }
    ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING |
                KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    r = kvm_vcpu_ioctl(fd, KVM_SET_VCPU_EVENTS, &ev);
    if (r < 0)
        snprintf(err, errlen, "restoring vCPU events: %s", strerror(-r));
    return r < 0 ? r : 0;
}

int x86_cpu_state_load(int vcpu_fd, const void *fdt, int node, char *err,
                       size_t errlen)
{
    int r = load_cpuid(vcpu_fd, fdt, node, err, errlen);

    if (r == 0)
        r = load_one(vcpu_fd, KVM_SET_SREGS, "sregs",
                     sizeof(struct kvm_sregs), true, fdt, node, err, errlen);
    if (r == 0)
        r = load_one(vcpu_fd, KVM_SET_REGS, "regs", sizeof(struct kvm_regs),
                     true, fdt, node, err, errlen);
    if (r == 0)
        r = load_fpu(vcpu_fd, fdt, node, err, errlen);
    if (r == 0)
        r = load_one(vcpu_fd, KVM_SET_XCRS, "xcrs", sizeof(struct kvm_xcrs),
                     false, fdt, node, err, errlen);
    if (r == 0)
        r = load_one(vcpu_fd, KVM_SET_LAPIC, "lapic",
                     sizeof(struct kvm_lapic_state), false, fdt, node, err,
                     errlen);
    if (r == 0)
        r = load_msrs(vcpu_fd, fdt, node, err, errlen);
    if (r == 0)
        r = load_one(vcpu_fd, KVM_SET_MP_STATE, "mp-state",
                     sizeof(struct kvm_mp_state), false, fdt, node, err,
                     errlen);
    if (r == 0)
        r = load_events(vcpu_fd, fdt, node, err, errlen);
    if (r == 0)
        r = load_one(vcpu_fd, KVM_SET_DEBUGREGS, "debugregs",
                     sizeof(struct kvm_debugregs), false, fdt, node, err,
                     errlen);
    return r;
}
