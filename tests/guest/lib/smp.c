/* SPDX-License-Identifier: BSD-3-Clause */
/* AP startup. */
#include "lib/smp.h"

#include "boot/cpu.h"
#include "lib/errno.h"
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/string.h"
#include "lib/time.h"

struct smp_cpu smp_cpus[MAX_CPUS];
void (*volatile smp_ap_work)(unsigned int cpu);

static volatile uint32_t nr_online = 1;
static int started;

extern char trampoline_start[], trampoline_end[];

void smp_ap_main(unsigned int cpu)
{
    smp_cpus[cpu].apic_id = lapic_id();
    smp_cpus[cpu].online = 1;
    __atomic_fetch_add(&nr_online, 1, __ATOMIC_SEQ_CST);
    if (smp_ap_work)
        smp_ap_work(cpu);
    cpu_park();
}

unsigned int smp_cpus_online(void)
{
    return nr_online;
}

static int send_init_sipi(void)
{
    uint32_t vector = TRAMPOLINE_ADDR >> 12;
    int r;

    r = lapic_send_ipi(0, LAPIC_ICR_ALL_BUT_SELF | LAPIC_ICR_INIT |
                              LAPIC_ICR_ASSERT | LAPIC_ICR_LEVEL);
    if (r < 0)
        return r;
    delay_us(10000);
    for (int i = 0; i < 2; i++) {
        r = lapic_send_ipi(0, LAPIC_ICR_ALL_BUT_SELF | LAPIC_ICR_SIPI |
                                  LAPIC_ICR_ASSERT | vector);
        if (r < 0)
            return r;
        delay_us(200);
    }
    return 0;
}

int smp_start_aps(unsigned int expected, uint64_t timeout_us)
{
    uint64_t start;
    int r;

    if (started)
        return -EBUSY;
    started = 1;
    smp_cpus[0].apic_id = lapic_id();
    smp_cpus[0].online = 1;
    memcpy((void *)(uintptr_t)TRAMPOLINE_ADDR, trampoline_start,
           (size_t)(trampoline_end - trampoline_start));
    r = send_init_sipi();
    if (r < 0)
        return r;
    start = time_us();
    while (nr_online < expected && time_us() - start < timeout_us)
        cpu_relax();
    /* Late APs beyond `expected`: give them a moment to be counted. */
    delay_us(10000);
    return (int)nr_online;
}
