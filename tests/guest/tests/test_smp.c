/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smp: start every AP with INIT-SIPI-SIPI; each reports its LAPIC ID from
 * CPL3. The CPU count must equal "cpus=N" from the command line.
 */
#include "lib/bootinfo.h"
#include "lib/printf.h"
#include "lib/smp.h"
#include "lib/test.h"
#include "tests/tests.h"

#define SMP_TIMEOUT_US 3000000

static int check_ids(unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (!smp_cpus[i].online)
            return test_fail("cpu %u missing", i);
        printf("smp: cpu %u apic id %u\n", i, smp_cpus[i].apic_id);
        for (unsigned int j = 0; j < i; j++)
            if (smp_cpus[j].apic_id == smp_cpus[i].apic_id)
                return test_fail("cpus %u and %u share apic id %u", j, i,
                                 smp_cpus[i].apic_id);
    }
    return 0;
}

int test_smp(void)
{
    uint64_t want;
    int n;

    if (cmdline_get_u64("cpus", &want) < 0)
        return test_fail("needs cpus=N on the command line");
    if (want < 1 || want > MAX_CPUS)
        return test_fail("cpus=%lu out of range 1-%d", want, MAX_CPUS);
    n = smp_start_aps((unsigned int)want, SMP_TIMEOUT_US);
    if (n < 0)
        return test_fail("starting APs: error %d", n);
    if ((uint64_t)n != want)
        return test_fail("%d cpus online, want %lu", n, want);
    return check_ids((unsigned int)n);
}
