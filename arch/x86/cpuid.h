/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest CPUID: KVM_GET_SUPPORTED_CPUID's list, filtered. Pure functions over
 * a list passed in (no ioctls), so they are unit-testable. Feature names are
 * Linux's /proc/cpuinfo names (arch/x86/include/asm/cpufeatures.h). */
#ifndef MINIVMM_CPUID_H
#define MINIVMM_CPUID_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#define CPUID_MAX_EDITS 32

struct cpuid_edit {
    uint16_t feature; /* index into the feature table (cpuid.c) */
    uint8_t set;      /* 1: force on, 0: hide */
};

struct cpuid_policy {
    unsigned int n;
    struct cpuid_edit edits[CPUID_MAX_EDITS];
};

/* Parse "--cpu-features" text: comma-separated names, each prefixed with '-'
 * (hide) or '+' (force on), e.g. "-xsave,-cx16". Appends to @pol; a later
 * edit of the same feature wins. 0, or -EINVAL with the reason in @err
 * (unknown name, missing sign, too many). */
int cpuid_policy_parse(struct cpuid_policy *pol, const char *spec, char *err,
                       size_t errlen);

/* Whether @pol already says something about feature @name. */
int cpuid_policy_mentions(const struct cpuid_policy *pol, const char *name);

/* Apply to the entries of @c (in place) for vCPU @apic_id of @ncpus:
 * the hypervisor bit, APIC IDs (leaf 1 EBX[31:24], leaves 0xB/0x1F EDX),
 * then @pol's edits. Hiding xsave also hides osxsave, avx* and zeroes leaf
 * 0xD, as hardware without XSAVE would report. */
void cpuid_apply(struct kvm_cpuid2 *c, const struct cpuid_policy *pol,
                 uint32_t apic_id, unsigned int ncpus);

/* Write the comma-separated list of known feature names into @buf (@len
 * bytes, NUL-terminated, truncated if short), for --help and errors. */
void cpuid_feature_names(char *buf, size_t len);

#endif
