/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * survive: the host kills (-9) the gpio sample while the guest reads its
 * BAR2 in a loop: reads turn all-ones, the guest goes on, and the other
 * device (lvu-test-server) still works. Markers for the host:
 * "survive: gpio alive" (kill now), then the result line.
 * reconnect: the same with minivmm's reconnect=; the host restarts the
 * sample after "reconnect: gpio dead", and the guest must read the new
 * server's counter from its start (0,0,0,1,1,1).
 * Both wait at most secs=N seconds (default 20) for the host.
 */
#include "interop/interop.h"

#include "lib/bootinfo.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/test.h"
#include "lib/time.h"

/* Read gpio BAR2[0] until all-ones; -1 on timeout. *n counts good reads. */
static int until_dead(uint16_t p, uint64_t end, const char *name,
                      uint64_t *n)
{
    for (*n = 0; time_us() < end; (*n)++) {
        uint8_t v = inb(p);

        if (v == 0xFF)
            return 0;
        if (v > *n / 3 + 1)
            return test_fail("read %lu gave %u, want <= %lu", *n, v,
                             *n / 3 + 1);
        if (*n == 30)
            printf("%s: gpio alive\n", name);
        delay_us(1000);
    }
    return test_fail("gpio never died (%lu good reads)", *n);
}

static uint64_t deadline(void)
{
    uint64_t secs = 20;

    cmdline_get_u64("secs", &secs);
    return time_us() + secs * 1000000;
}

int test_survive(void)
{
    struct idev d;
    uint64_t n, end = deadline();
    uint16_t p;
    int r;

    if ((r = idev_find(0x494f, 0x0dc8, 0, &d)) < 0)
        return test_fail("gpio: %d (no function, or no room)", r);
    p = (uint16_t)d.bar[2].addr;
    if (until_dead(p, end, "survive", &n) < 0)
        return -1;
    for (unsigned int i = 0; i < 3; i++)
        if (inb(p) != 0xFF)
            return test_fail("dead gpio read not all-ones");
    printf("survive: gpio dead after %lu reads, reads all-ones\n", n);
    if (lvu_still_works() < 0)
        return -1;
    printf("survive: the other device still works\n");
    return 0;
}

int test_reconnect(void)
{
    struct idev d;
    uint64_t n, end = deadline();
    uint8_t v = 0xFF, got[6];
    uint16_t p;
    int r;

    if ((r = idev_find(0x494f, 0x0dc8, 0, &d)) < 0)
        return test_fail("gpio: %d (no function, or no room)", r);
    p = (uint16_t)d.bar[2].addr;
    if (until_dead(p, end, "reconnect", &n) < 0)
        return -1;
    printf("reconnect: gpio dead after %lu reads\n", n);
    while (time_us() < end && (v = inb(p)) == 0xFF)
        delay_us(10000);
    if (v == 0xFF)
        return test_fail("gpio did not come back");
    got[0] = v;
    for (unsigned int i = 1; i < 6; i++)
        got[i] = inb(p);
    for (unsigned int i = 0; i < 6; i++)
        if (got[i] != i / 3)
            return test_fail("after reconnect read %u gave %u, want %u "
                             "(a new server counts from 0)", i, got[i],
                             i / 3);
    printf("reconnect: gpio back, the new server counts 0,0,0,1,1,1\n");
    return 0;
}
