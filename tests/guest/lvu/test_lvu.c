/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lvu-mig: the guest side of the libvfio-user migration tests. Finds the
 * lvu-mig-server device (1234:4d47), programs BAR 0 and fills its scratch
 * (0x000-0x7ff, 0x824-0xfff) with a pattern from scratch_seed=; points the
 * server's DMA registers at a buffer in guest RAM (dma_gpa=, default
 * 64 MiB; dma_len=, default 16 KiB; dma_seed=) that it first fills with
 * 0xeeeeeeee; then lvu-dma=now has the server write its pattern at once
 * (command 1), lvu-dma=arm arms it for the server's --dma-at trigger
 * (command 2), lvu-dma=none does neither. Then it counts like test=counter
 * ("lvu: tick T", every tick_ms, ticks= of them) and reads the server's
 * poll register every poll_ms (a trigger point for --dma-at=poll:N). State
 * lives in statics, so a snapshot or migration in between carries it on.
 * At the end it checks, through the (maybe new) server: every scratch byte
 * as written, the magic, the server's count of pattern writes (>= 1 unless
 * lvu-dma=none) and no DMA error, and the buffer holding the pattern:
 * "lvu-mig: bar0 ok (N bytes), D dma writes, pattern ok (L bytes)".
 */
#include "lib/bootinfo.h"
#include "lib/errno.h"
#include "lib/io.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "lvu/lvu_tests.h"

#define R_ADDR_LO 0x800u
#define R_ADDR_HI 0x804u
#define R_LEN     0x808u
#define R_SEED    0x80cu
#define R_CMD     0x810u
#define R_DONE    0x814u
#define R_ERR     0x818u
#define R_POLL    0x81cu
#define R_MAGIC   0x820u
#define MAGIC     0x4d55564cu

static volatile uint64_t tick;   /* survives migration with RAM */

/* Must match lvu_pattern() in tests/interop/lvu-mig-server.c. */
static uint32_t lvu_pattern(uint32_t seed, uint32_t k)
{
    return (seed + k) * 2654435761u ^ 0xa5a5a5a5u;
}

static int is_scratch(uint32_t off)
{
    return off < R_ADDR_LO || off >= R_MAGIC + 4;
}

static int find(struct pci_addr *a)
{
    for (uint8_t dev = 1; dev < 32; dev++) {
        *a = (struct pci_addr){0, dev, 0};
        if (pci_read32(PCI_CF8, *a, 0) == 0x4d471234)
            return 0;
    }
    return -ENODEV;
}

static uint64_t opt(const char *key, uint64_t dflt)
{
    uint64_t v;

    return cmdline_get_u64(key, &v) == 0 ? v : dflt;
}

/* Map BAR 0 and fill the scratch and DMA registers. 0 or test_fail. */
static int setup(uint64_t *bar0, uint32_t sseed, uint64_t gpa, uint32_t len,
                 uint32_t dseed)
{
    struct pci_window win = {0xC0000000ULL, 0xE0000000ULL};
    struct pci_bar bar;
    struct pci_addr a;

    if (find(&a) < 0)
        return test_fail("no lvu-mig-server device (1234:4d47)");
    if (pci_bar_probe(PCI_CF8, a, 0, &bar) < 0 || bar.size != 4096)
        return test_fail("BAR 0 probe: size %lu", bar.size);
    if (pci_window_alloc(&win, bar.size, bar0) < 0)
        return test_fail("no room for BAR 0");
    pci_bar_set(PCI_CF8, a, 0, &bar, *bar0);
    pci_write16(PCI_CF8, a, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER);
    if (mmio_read32(*bar0 + R_MAGIC) != MAGIC)
        return test_fail("magic %#x", mmio_read32(*bar0 + R_MAGIC));
    for (uint32_t off = 0; off < 4096; off += 4)
        if (is_scratch(off))
            mmio_write32(*bar0 + off, lvu_pattern(sseed, off / 4) ^ 0x5a5a);
    for (uint32_t i = 0; i < len / 4; i++)
        ((volatile uint32_t *)gpa)[i] = 0xeeeeeeeeu;
    mmio_write32(*bar0 + R_ADDR_LO, (uint32_t)gpa);
    mmio_write32(*bar0 + R_ADDR_HI, (uint32_t)(gpa >> 32));
    mmio_write32(*bar0 + R_LEN, len);
    mmio_write32(*bar0 + R_SEED, dseed);
    return 0;
}

/* Count ticks, polling the server; carries on across a migration. */
static void count(uint64_t bar0)
{
    uint64_t tick_ms = opt("tick_ms", 100), ticks = opt("ticks", 20);
    uint64_t poll_ms = opt("poll_ms", 10), next, next_poll;

    printf("lvu: start at tick %lu\n", tick);
    next = time_us() + tick_ms * 1000;
    next_poll = time_us() + poll_ms * 1000;
    while (tick < ticks) {
        uint64_t now = time_us();

        if (now >= next_poll) {
            (void)mmio_read32(bar0 + R_POLL);
            next_poll = time_us() + poll_ms * 1000;
        }
        if (now < next)
            continue;
        tick = tick + 1;
        printf("lvu: tick %lu\n", tick);
        next = time_us() + tick_ms * 1000;
    }
}

/* What the (restored) device and RAM hold. 0 or test_fail. */
static int verify(uint64_t bar0, uint32_t sseed, uint64_t gpa, uint32_t len,
                  uint32_t dseed, int dma)
{
    uint32_t n = 0, done = mmio_read32(bar0 + R_DONE);
    uint32_t err = mmio_read32(bar0 + R_ERR);

    for (uint32_t off = 0; off < 4096; off += 4) {
        uint32_t v = mmio_read32(bar0 + off), want;

        if (!is_scratch(off))
            continue;
        want = lvu_pattern(sseed, off / 4) ^ 0x5a5a;
        if (v != want)
            return test_fail("BAR 0 +%#x holds %#x, want %#x", off, v, want);
        n += 4;
    }
    if (mmio_read32(bar0 + R_MAGIC) != MAGIC || err)
        return test_fail("magic %#x, DMA error %u",
                         mmio_read32(bar0 + R_MAGIC), err);
    if (dma && done == 0)
        return test_fail("the server wrote no pattern (dma writes 0)");
    for (uint32_t i = 0; dma && i < len / 4; i++) {
        uint32_t v = ((volatile uint32_t *)gpa)[i];

        if (v != lvu_pattern(dseed, i))
            return test_fail("RAM %#lx holds %#x, want %#x (pattern word %u)",
                             gpa + 4 * (uint64_t)i, v,
                             lvu_pattern(dseed, i), i);
    }
    printf("lvu-mig: bar0 ok (%u bytes), %u dma writes, pattern %s "
           "(%u bytes)\n", n, done, dma ? "ok" : "not checked", len);
    return 0;
}

int test_lvu_mig(void)
{
    static uint64_t bar0;   /* statics: the test resumes after migration */
    uint32_t sseed = (uint32_t)opt("scratch_seed", 0x1234567);
    uint32_t dseed = (uint32_t)opt("dma_seed", 0xc0ffee);
    uint64_t gpa = opt("dma_gpa", 64ull << 20);
    uint32_t len = (uint32_t)opt("dma_len", 16384);
    char mode[8] = "arm";
    int r;

    cmdline_get("lvu-dma", mode, sizeof(mode));
    if (len == 0 || len > 65536 || len % 4 || gpa % 4)
        return test_fail("bad dma_gpa/dma_len");
    r = setup(&bar0, sseed, gpa, len, dseed);
    if (r)
        return r;
    if (!strcmp(mode, "now"))
        mmio_write32(bar0 + R_CMD, 1);
    else if (!strcmp(mode, "arm"))
        mmio_write32(bar0 + R_CMD, 2);
    printf("lvu-mig: device ready, scratch written, dma %s\n", mode);
    count(bar0);
    return verify(bar0, sseed, gpa, len, dseed, strcmp(mode, "none") != 0);
}
