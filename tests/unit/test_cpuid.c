/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for arch/x86/cpuid.c over a fake KVM_GET_SUPPORTED_CPUID list:
 * APIC ID placement, the hypervisor bit, feature edits (-xsave and its
 * dependants, -cx16, +xsaveerptr, later edits winning), policy parsing
 * errors, cpuid_policy_mentions and the feature-name list.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpuid.h"

#define BIT(n) (1u << (n))
#define SIG    KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define NENT   13

/* Leaf 1 ECX / EDX bits used below (Intel SDM vol. 2A, table 3-10/3-11). */
#define L1C_CX16    BIT(13)
#define L1C_XSAVE   BIT(26)
#define L1C_OSXSAVE BIT(27)
#define L1C_AVX     BIT(28)
#define L1C_HV      BIT(31)
#define L1D_HTT     BIT(28)
#define L7B_AVX2    BIT(5)
#define L7B_AVX512F BIT(16)
#define L7C_PKU     BIT(3)

static const struct kvm_cpuid_entry2 host[NENT] = {
    { .function = 0, .eax = 0x1f, .ebx = 0x756e6547, .ecx = 0x6c65746e,
      .edx = 0x49656e69 },
    { .function = 1, .eax = 0x000906ea, .ebx = 0xff0f0800,
      .ecx = 0x7ffafbff, .edx = 0xbfebfbff },
    { .function = 7, .index = 0, .flags = SIG, .eax = 0,
      .ebx = 0x029c6fbf, .ecx = 0x40000008, .edx = 0xbc000400 },
    { .function = 7, .index = 1, .flags = SIG, .eax = 0x11, .ebx = 0xaa },
    { .function = 0xb, .index = 0, .flags = SIG, .eax = 1, .ebx = 1,
      .ecx = 0x100, .edx = 0x77 },
    { .function = 0xb, .index = 1, .flags = SIG, .eax = 4, .ebx = 8,
      .ecx = 0x201, .edx = 0x77 },
    { .function = 0xd, .index = 0, .flags = SIG, .eax = 0x1f, .ebx = 0x340,
      .ecx = 0xa88, .edx = 0 },
    { .function = 0xd, .index = 1, .flags = SIG, .eax = 0xf, .ebx = 0x340,
      .ecx = 0x100, .edx = 0 },
    { .function = 0x1f, .index = 0, .flags = SIG, .eax = 1, .edx = 0x66 },
    { .function = 0x80000000, .eax = 0x80000008 },
    { .function = 0x80000001, .ecx = 0x121, .edx = 0x2c100800 },
    { .function = 0x80000007, .edx = 0x100 },
    { .function = 0x80000008, .eax = 0x3027, .ebx = 0x1, .ecx = 0 },
};

static struct kvm_cpuid2 *fake(void)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(host));

    assert_non_null(c);
    c->nent = NENT;
    memcpy(c->entries, host, sizeof(host));
    return c;
}

static struct kvm_cpuid_entry2 *ent(struct kvm_cpuid2 *c, uint32_t fn,
                                    uint32_t idx)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == idx)
            return &c->entries[i];
    fail_msg("leaf %#x.%u missing", fn, idx);
    return NULL;
}

static const struct kvm_cpuid_entry2 *orig(uint32_t fn, uint32_t idx)
{
    for (unsigned int i = 0; i < NENT; i++)
        if (host[i].function == fn && host[i].index == idx)
            return &host[i];
    return NULL;
}

/* Apply "--cpu-features @spec" (may be NULL) for vCPU @apic of @ncpus. */
static struct kvm_cpuid2 *apply(const char *spec, uint32_t apic,
                                unsigned int ncpus)
{
    struct cpuid_policy pol = { 0 };
    struct kvm_cpuid2 *c = fake();
    char err[1024];

    if (spec && cpuid_policy_parse(&pol, spec, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", spec, err);
    cpuid_apply(c, &pol, apic, ncpus);
    return c;
}

/* Leaf @fn.@idx must equal the host's except for @mask bits of each reg. */
static void same_except(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx,
                        const uint32_t mask[4])
{
    const struct kvm_cpuid_entry2 *o = orig(fn, idx);
    const struct kvm_cpuid_entry2 *e = ent(c, fn, idx);

    assert_int_equal(e->eax & ~mask[0], o->eax & ~mask[0]);
    assert_int_equal(e->ebx & ~mask[1], o->ebx & ~mask[1]);
    assert_int_equal(e->ecx & ~mask[2], o->ecx & ~mask[2]);
    assert_int_equal(e->edx & ~mask[3], o->edx & ~mask[3]);
}

static void test_default_apply(void **state)
{
    static const uint32_t none[4] = { 0 };
    struct kvm_cpuid2 *c = apply(NULL, 5, 8);
    struct kvm_cpuid_entry2 *l1 = ent(c, 1, 0);

    (void)state;
    assert_int_equal(l1->ebx, 0x05080800); /* APIC ID, count, CLFLUSH */
    assert_true(l1->edx & L1D_HTT);
    assert_true(l1->ecx & L1C_HV);
    assert_int_equal(l1->eax, host[1].eax);
    assert_int_equal(ent(c, 0xb, 0)->edx, 5);
    assert_int_equal(ent(c, 0xb, 1)->edx, 5);
    assert_int_equal(ent(c, 0x1f, 0)->edx, 5);
    assert_int_equal(ent(c, 0xb, 1)->ebx, host[5].ebx);
    /* Everything else is the host's list. */
    same_except(c, 0, 0, none);
    same_except(c, 7, 0, none);
    same_except(c, 7, 1, none);
    same_except(c, 0xd, 0, none);
    same_except(c, 0xd, 1, none);
    same_except(c, 0x80000001, 0, none);
    same_except(c, 0x80000008, 0, none);
    assert_int_equal(c->nent, NENT);
    free(c);

    c = apply(NULL, 254, 255);
    assert_int_equal(ent(c, 1, 0)->ebx, 0xfeff0800);
    assert_int_equal(ent(c, 0xb, 0)->edx, 254);
    free(c);
    c = apply(NULL, 0, 1);
    assert_int_equal(ent(c, 1, 0)->ebx, 0x00010800);
    assert_int_equal(ent(c, 0xb, 1)->edx, 0);
    free(c);
}

static void test_hide_xsave(void **state)
{
    static const uint32_t m1[4] = { 0, 0xffff0000, L1C_HV | L1C_CX16,
                                     L1D_HTT };
    struct kvm_cpuid2 *c = apply("-xsave", 0, 1);
    struct kvm_cpuid_entry2 *l1 = ent(c, 1, 0), *l7 = ent(c, 7, 0);

    (void)state;
    assert_false(l1->ecx & (L1C_XSAVE | L1C_OSXSAVE | L1C_AVX));
    assert_true(l1->ecx & L1C_CX16);
    assert_int_equal(l1->ecx | L1C_XSAVE | L1C_OSXSAVE | L1C_AVX,
                     host[1].ecx | L1C_HV);
    assert_false(l7->ebx & (L7B_AVX2 | L7B_AVX512F));
    assert_false(l7->ecx & L7C_PKU);
    assert_int_equal(l7->ebx | L7B_AVX2 | L7B_AVX512F,
                     host[2].ebx | L7B_AVX2 | L7B_AVX512F);
    for (uint32_t sub = 0; sub < 2; sub++) {
        struct kvm_cpuid_entry2 *d = ent(c, 0xd, sub);

        assert_int_equal(d->eax | d->ebx | d->ecx | d->edx, 0);
    }
    same_except(c, 0x80000001, 0, (uint32_t[4]){ 0 });
    same_except(c, 0xb, 1, (uint32_t[4]){ 0, 0, 0, ~0u });
    free(c);

    /* -cx16 changes exactly one bit. */
    c = apply("-cx16", 0, 1);
    same_except(c, 1, 0, m1);
    assert_int_equal(ent(c, 1, 0)->ecx, (host[1].ecx & ~L1C_CX16) | L1C_HV);
    same_except(c, 0xd, 0, (uint32_t[4]){ 0 });
    free(c);
}

static void test_force_and_order(void **state)
{
    struct kvm_cpuid2 *c;

    (void)state;
    c = apply("+xsaveerptr", 0, 1);
    assert_int_equal(ent(c, 0x80000008, 0)->ebx, host[12].ebx | BIT(2));
    assert_int_equal(ent(c, 0x80000008, 0)->eax, host[12].eax);
    free(c);

    c = apply("+cx16,-cx16", 0, 1);
    assert_false(ent(c, 1, 0)->ecx & L1C_CX16);
    free(c);
    c = apply("-cx16,+cx16", 0, 1);
    assert_true(ent(c, 1, 0)->ecx & L1C_CX16);
    free(c);
    /* A later edit wins over what -xsave implied, and vice versa. */
    c = apply("-xsave,+avx", 0, 1);
    assert_true(ent(c, 1, 0)->ecx & L1C_AVX);
    assert_false(ent(c, 1, 0)->ecx & L1C_XSAVE);
    free(c);
    c = apply("+avx2,-xsave", 0, 1);
    assert_false(ent(c, 7, 0)->ebx & L7B_AVX2);
    free(c);
    /* The hypervisor bit can be hidden explicitly. */
    c = apply("-hypervisor", 0, 1);
    assert_false(ent(c, 1, 0)->ecx & L1C_HV);
    free(c);
    /* Subleaf-sensitive leaves: only subleaf 0 of leaf 7 changes. */
    c = apply("-fsgsbase,+la57", 0, 1);
    assert_false(ent(c, 7, 0)->ebx & BIT(0));
    assert_true(ent(c, 7, 0)->ecx & BIT(16));
    assert_int_equal(ent(c, 7, 1)->ebx, host[3].ebx);
    assert_int_equal(ent(c, 7, 1)->ecx, host[3].ecx);
    free(c);
    /* +xsaves after -xsave re-sets the bit in the zeroed leaf 0xD.1. */
    c = apply("-xsave,+xsaves", 0, 1);
    assert_int_equal(ent(c, 0xd, 1)->eax, BIT(3));
    free(c);
}

static void test_missing_leaves(void **state)
{
    struct cpuid_policy pol = { 0 };
    struct kvm_cpuid2 *c = fake();
    char err[1024];

    (void)state;
    /* Only leaf 0 and 7.1 left: edits of absent leaves are no-ops. */
    c->entries[1] = c->entries[3];
    c->nent = 2;
    assert_int_equal(cpuid_policy_parse(&pol, "+xsaveerptr,-xsave,+cx16,"
                                        "-fsgsbase", err, sizeof(err)), 0);
    cpuid_apply(c, &pol, 3, 4);
    assert_int_equal(c->nent, 2);
    assert_memory_equal(&c->entries[0], &host[0], sizeof(host[0]));
    assert_memory_equal(&c->entries[1], &host[3], sizeof(host[3]));
    /* An empty list. */
    c->nent = 0;
    cpuid_apply(c, &pol, 3, 4);
    free(c);

    /* A leaf-7 entry without the significant-index flag still matches. */
    c = fake();
    c->entries[2].flags = 0;
    c->entries[3].function = 0x40000000;
    memset(&pol, 0, sizeof(pol));
    assert_int_equal(cpuid_policy_parse(&pol, "-avx2", err, sizeof(err)), 0);
    cpuid_apply(c, &pol, 0, 1);
    assert_false(c->entries[2].ebx & L7B_AVX2);
    free(c);
}

static void expect_parse_error(const char *spec, const char *needle)
{
    struct cpuid_policy pol = { 0 };
    char err[1024] = "";

    assert_int_equal(cpuid_policy_parse(&pol, spec, err, sizeof(err)),
                     -EINVAL);
    if (!strstr(err, needle))
        fail_msg("'%s': '%s' lacks '%s'", spec, err, needle);
}

static void test_parse_errors(void **state)
{
    struct cpuid_policy pol = { 0 };
    char err[64];

    (void)state;
    expect_parse_error("xsave", "'xsave' needs a '-'");
    expect_parse_error("-cx16,avx", "'avx' needs");
    expect_parse_error("*avx", "'*avx'");
    expect_parse_error("-nosuch", "unknown feature 'nosuch'");
    expect_parse_error("-nosuch", "known: cx16,");
    expect_parse_error("+", "unknown feature ''");
    expect_parse_error("-cx16,+xsave2", "'xsave2'");
    expect_parse_error("-cx1", "'cx1'");
    expect_parse_error(" -cx16", "needs a '-'");

    /* Edits accumulate across calls, up to CPUID_MAX_EDITS. */
    for (int i = 0; i < CPUID_MAX_EDITS; i++)
        assert_int_equal(cpuid_policy_parse(&pol, i % 2 ? "+aes" : "-aes",
                                            err, sizeof(err)),
                         0);
    assert_int_equal(pol.n, CPUID_MAX_EDITS);
    assert_int_equal(cpuid_policy_parse(&pol, "-cx16", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "more than 32"));
    assert_int_equal(pol.n, CPUID_MAX_EDITS);
    /* A tiny error buffer is fine. */
    memset(&pol, 0, sizeof(pol));
    assert_int_equal(cpuid_policy_parse(&pol, "-nosuch", err, 8), -EINVAL);
    assert_int_equal(strlen(err), 7);
}

static void test_mentions(void **state)
{
    struct cpuid_policy pol = { 0 };
    char err[1024];

    (void)state;
    assert_false(cpuid_policy_mentions(&pol, "xsave"));
    assert_int_equal(cpuid_policy_parse(&pol, "-xsave,+rdtscp", err,
                                        sizeof(err)),
                     0);
    assert_true(cpuid_policy_mentions(&pol, "xsave"));
    assert_true(cpuid_policy_mentions(&pol, "rdtscp"));
    /* -xsave implies osxsave off, but the policy does not "mention" it. */
    assert_false(cpuid_policy_mentions(&pol, "osxsave"));
    assert_false(cpuid_policy_mentions(&pol, "cx16"));
    assert_false(cpuid_policy_mentions(&pol, "nosuch"));
    assert_false(cpuid_policy_mentions(&pol, ""));
    assert_false(cpuid_policy_mentions(&pol, "xsav"));
}

static void test_feature_names(void **state)
{
    char buf[1024], small[12];

    (void)state;
    cpuid_feature_names(buf, sizeof(buf));
    assert_true(strncmp(buf, "cx16,pcid,", 10) == 0);
    assert_non_null(strstr(buf, ",xsaveerptr"));
    assert_int_equal(buf[strlen(buf) - 1] != ',', 1);
    memset(small, 'x', sizeof(small));
    cpuid_feature_names(small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_true(strncmp(small, "cx16,pcid,x", 11) == 0);
    small[0] = 'x';
    cpuid_feature_names(small, 1);
    assert_int_equal(small[0], 0);
    small[0] = 'x';
    cpuid_feature_names(small, 0);
    assert_int_equal(small[0], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_apply),
        cmocka_unit_test(test_hide_xsave),
        cmocka_unit_test(test_force_and_order),
        cmocka_unit_test(test_missing_leaves),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_mentions),
        cmocka_unit_test(test_feature_names),
    };

    return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
