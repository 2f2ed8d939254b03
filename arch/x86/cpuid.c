/* SPDX-License-Identifier: BSD-3-Clause */
/* CPUID filtering (see cpuid.h). Bit positions: Intel SDM vol. 2A, CPUID;
 * AMD APM vol. 3, appendix E. */
#include "arch/x86/cpuid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { R_EAX, R_EBX, R_ECX, R_EDX };

struct cpuid_feature {
    const char *name;
    uint32_t leaf;
    uint32_t subleaf;
    uint8_t reg;
    uint8_t bit;
};

static const struct cpuid_feature features[] = {
    { "cx16", 1, 0, R_ECX, 13 },      { "pcid", 1, 0, R_ECX, 17 },
    { "x2apic", 1, 0, R_ECX, 21 },    { "tsc-deadline", 1, 0, R_ECX, 24 },
    { "xsave", 1, 0, R_ECX, 26 },     { "osxsave", 1, 0, R_ECX, 27 },
    { "avx", 1, 0, R_ECX, 28 },       { "rdrand", 1, 0, R_ECX, 30 },
    { "hypervisor", 1, 0, R_ECX, 31 }, { "aes", 1, 0, R_ECX, 25 },
    { "movbe", 1, 0, R_ECX, 22 },     { "popcnt", 1, 0, R_ECX, 23 },
    { "mce", 1, 0, R_EDX, 7 },        { "mtrr", 1, 0, R_EDX, 12 },
    { "fsgsbase", 7, 0, R_EBX, 0 },   { "avx2", 7, 0, R_EBX, 5 },
    { "smep", 7, 0, R_EBX, 7 },       { "invpcid", 7, 0, R_EBX, 10 },
    { "avx512f", 7, 0, R_EBX, 16 },   { "rdseed", 7, 0, R_EBX, 18 },
    { "smap", 7, 0, R_EBX, 20 },      { "pku", 7, 0, R_ECX, 3 },
    { "la57", 7, 0, R_ECX, 16 },      { "rdpid", 7, 0, R_ECX, 22 },
    { "xsaveopt", 0xd, 1, R_EAX, 0 }, { "xsavec", 0xd, 1, R_EAX, 1 },
    { "xsaves", 0xd, 1, R_EAX, 3 },   { "lahf_lm", 0x80000001, 0, R_ECX, 0 },
    { "rdtscp", 0x80000001, 0, R_EDX, 27 },
    { "pdpe1gb", 0x80000001, 0, R_EDX, 26 },
    { "xsaveerptr", 0x80000008, 0, R_EBX, 2 },
};
#define NFEATURES (sizeof(features) / sizeof(features[0]))

static int feature_index(const char *name, size_t len)
{
    for (unsigned int i = 0; i < NFEATURES; i++)
        if (strlen(features[i].name) == len &&
            strncmp(features[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int cpuid_policy_parse(struct cpuid_policy *pol, const char *spec, char *err,
                       size_t errlen)
{
    const char *p = spec;

    while (*p) {
        size_t len = strcspn(p, ",");
        int idx;

        if (len == 0) {
            p++;
            continue;
        }
        if (*p != '-' && *p != '+') {
            snprintf(err, errlen, "--cpu-features: '%.*s' needs a '-' "
                     "(hide) or '+' (force on) prefix", (int)len, p);
            return -EINVAL;
        }
        idx = feature_index(p + 1, len - 1);
        if (idx < 0) {
            char names[512];

            cpuid_feature_names(names, sizeof(names));
            snprintf(err, errlen, "--cpu-features: unknown feature "
                     "'%.*s'; known: %s", (int)len - 1, p + 1, names);
            return -EINVAL;
        }
        if (pol->n == CPUID_MAX_EDITS) {
            snprintf(err, errlen, "--cpu-features: more than %d edits",
                     CPUID_MAX_EDITS);
            return -EINVAL;
        }
        pol->edits[pol->n++] = (struct cpuid_edit){ (uint16_t)idx,
                                                    *p == '+' };
        p += len;
    }
    return 0;
}

int cpuid_policy_mentions(const struct cpuid_policy *pol, const char *name)
{
    int idx = feature_index(name, strlen(name));

    for (unsigned int i = 0; i < pol->n; i++)
        if (pol->edits[i].feature == idx)
            return 1;
    return 0;
}

void cpuid_feature_names(char *buf, size_t len)
{
    size_t used = 0;

    if (len)
        buf[0] = 0;
    for (unsigned int i = 0; i < NFEATURES && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                 i ? "," : "", features[i].name);
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t leaf,
                                     uint32_t subleaf)
{
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];

        if (e->function != leaf)
            continue;
        if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
            e->index != subleaf)
            continue;
        return e;
    }
    return NULL;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, uint8_t reg)
{
    switch (reg) {
    case R_EAX:
        return &e->eax;
    case R_EBX:
        return &e->ebx;
    case R_ECX:
        return &e->ecx;
    default:
        return &e->edx;
    }
}

static void set_feature(struct kvm_cpuid2 *c, int idx, int on)
{
    const struct cpuid_feature *f = &features[idx];
    struct kvm_cpuid_entry2 *e = find(c, f->leaf, f->subleaf);

    if (!e)
        return;
    if (on)
        *reg_of(e, f->reg) |= 1u << f->bit;
    else
        *reg_of(e, f->reg) &= ~(1u << f->bit);
}

/* Without XSAVE there is no extended state: hide what depends on it. */
static void hide_xsave(struct kvm_cpuid2 *c)
{
    static const char *const deps[] = { "osxsave", "avx", "avx2",
                                        "avx512f", "xsaveopt", "xsavec",
                                        "xsaves", "pku" };

    for (unsigned int i = 0; i < sizeof(deps) / sizeof(deps[0]); i++)
        set_feature(c, feature_index(deps[i], strlen(deps[i])), 0);
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == 0xd)
            c->entries[i].eax = c->entries[i].ebx = c->entries[i].ecx =
                c->entries[i].edx = 0;
}

void cpuid_apply(struct kvm_cpuid2 *c, const struct cpuid_policy *pol,
                 uint32_t apic_id, unsigned int ncpus)
{
    int xsave = feature_index("xsave", 5);

    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];

        if (e->function == 1) {
            e->ebx = (e->ebx & 0x0000ffff) | (apic_id << 24) |
                     ((ncpus & 0xff) << 16);
            e->edx |= 1u << 28; /* HTT: the logical count is valid */
        } else if (e->function == 0xb || e->function == 0x1f) {
            e->edx = apic_id;
        }
    }
    set_feature(c, feature_index("hypervisor", 10), 1);
    for (unsigned int i = 0; i < pol->n; i++) {
        set_feature(c, pol->edits[i].feature, pol->edits[i].set);
        if (pol->edits[i].feature == xsave && !pol->edits[i].set)
            hide_xsave(c);
    }
}
