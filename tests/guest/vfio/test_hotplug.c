/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hotplug: a virtio-blk device (vfu-blk, or an in-VMM disk) hot-added by
 * the host's device-add, used, released on the host's device-remove, and
 * added again (hp-rounds=N times, default 2; the same slot each time).
 * Eject requests for other slots are left unanswered (the host's removal
 * timeout). The guest side
 * of ACPI PCI hotplug without AML: the registers the DSDT's GED _EVT and
 * PCNT read (docs/platform.md "PCI hotplug"), polled: GED event bit 1,
 * then PCIU (slots added) / PCID (slots to release); the device is reset
 * and its slot ejected through B0EJ, as _EJ0 does; PRES shows the slot
 * empty once the host tore the device down. Host side:
 * tests/integration/payload_hotplug.sh. Marker lines:
 *   hotplug: waiting for a device (round R)
 *   hotplug: slot S added
 *   hotplug: io ok on slot S
 *   hotplug: ejected slot S
 *   hotplug: slot S empty
 */
#include "lib/bootinfo.h"
#include "lib/io.h"
#include "lib/irq.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"
#include "lib/time.h"
#include "virtio/vblk.h"
#include "vfio/vfio_tests.h"

#define HP_PORT 0x620
#define HP_PCIU (HP_PORT + 0x0)
#define HP_PCID (HP_PORT + 0x4)
#define HP_B0EJ (HP_PORT + 0x8)
#define HP_PRES (HP_PORT + 0xC)
#define HP_GED (HP_PORT + 0x10)
#define GED_PCI 0x1
#define GED_POWER 0x2
#define SLEEP_CTL_PORT 0x600
#define SLP_EN 0x20
#define SLP_TYP_S5 5

struct hp_seen {
    uint32_t up, down;
};

/* Poll the GED until a PCI event brings an up (or @down) bit: of slot
 * @want, or (@want 0) the lowest; that slot, or 0 after @secs seconds.
 * Other bits are kept for later. */
static unsigned int hp_wait(struct hp_seen *s, int down, unsigned int want,
                            uint64_t secs)
{
    uint64_t end = time_us() + secs * 1000000;

    while (time_us() < end) {
        uint32_t *bits = down ? &s->down : &s->up;

        if (inl(HP_GED) & GED_PCI) {
            s->up |= inl(HP_PCIU);
            s->down |= inl(HP_PCID);
        }
        for (unsigned int slot = 1; slot < 32; slot++) {
            if ((*bits & (1u << slot)) && (!want || slot == want)) {
                *bits &= ~(1u << slot);
                return slot;
            }
        }
        delay_us(1000);
    }
    return 0;
}

/* Write and read back sector @round through the device in @slot. */
static int hp_io(unsigned int slot, uint64_t round)
{
    uint8_t *w = vdma_alloc(512, 4096), *r = vdma_alloc(512, 4096);
    struct vblk b;
    uint64_t irqs;
    int st;

    unsigned int nth = 0;

    /* The virtio-blk devices before @slot (a cold-plugged disk). */
    while (vdev_find(VIRTIO_ID_BLOCK, nth, &b.dev) == 0 &&
           b.dev.pci.dev < slot)
        nth++;
    if (!w || !r || vblk_open_nth(&b, nth, VEC_VFIO0) < 0)
        return -1;
    if (b.dev.pci.dev != slot)
        return test_fail("the virtio-blk device is at slot %u, not %u",
                         b.dev.pci.dev, slot);
    memset(w, 0, 512);
    snprintf((char *)w, 64, "HOTPLUG round %lu\n", round);
    irqs = irq_count(VEC_VFIO0);
    st = vblk_rw(&b, VBLK_T_OUT, round, w, 512);
    if (st != 0)
        return test_fail("write status %d", st);
    if (irq_wait(VEC_VFIO0, irqs + 1, 1000000) < 0)
        return test_fail("no interrupt");
    st = vblk_rw(&b, VBLK_T_IN, round, r, 512);
    if (st != 0 || memcmp(w, r, 512))
        return test_fail("read back failed (%d)", st);
    mmio_write8(b.dev.common + 20, 0); /* device_status: reset */
    return 0;
}

/* Release @slot once the host asks, and wait until it is gone. */
static int hp_release(struct hp_seen *s, unsigned int slot, uint64_t secs)
{
    struct pci_addr a = { 0, (uint8_t)slot, 0 };
    uint64_t end;
    unsigned int d = hp_wait(s, 1, slot, secs);

    if (d != slot)
        return test_fail("no eject request for slot %u (got %u)", slot, d);
    outl(HP_B0EJ, 1u << slot);
    printf("hotplug: ejected slot %u\n", slot);
    end = time_us() + secs * 1000000;
    while ((inl(HP_PRES) & (1u << slot)) && time_us() < end)
        delay_us(1000);
    if (inl(HP_PRES) & (1u << slot))
        return test_fail("slot %u still present", slot);
    if ((pci_read32(PCI_CF8, a, 0) & 0xFFFF) != 0xFFFF)
        return test_fail("slot %u still answers config reads", slot);
    printf("hotplug: slot %u empty\n", slot);
    return 0;
}

int test_hotplug(void)
{
    uint64_t rounds = 2, secs = 60;
    struct hp_seen s = { 0, 0 };
    unsigned int first = 0;

    cmdline_get_u64("hp-rounds", &rounds);
    cmdline_get_u64("hp-secs", &secs);
    for (uint64_t r = 0; r < rounds; r++) {
        unsigned int slot;

        printf("hotplug: waiting for a device (round %lu)\n", r);
        slot = hp_wait(&s, 0, 0, secs);
        if (!slot)
            return test_fail("no device added within %lu s", secs);
        printf("hotplug: slot %u added\n", slot);
        if (!(inl(HP_PRES) & (1u << slot)))
            return test_fail("slot %u added but not present", slot);
        if (first && slot != first)
            return test_fail("re-added at slot %u, not %u", slot, first);
        first = slot;
        if (hp_io(slot, r) < 0)
            return -1;
        printf("hotplug: io ok on slot %u\n", slot);
        if (hp_release(&s, slot, secs) < 0)
            return -1;
    }
    return 0;
}

/* powerbtn: wait (hp-secs) for the GED's power-button event, as the DSDT's
 * _EVT reads it, then power off through the ACPI sleep register (S5), as
 * a guest's shutdown ends. Markers: "powerbtn: waiting",
 * "powerbtn: pressed". */
int test_powerbtn(void)
{
    uint64_t secs = 60, end;

    cmdline_get_u64("hp-secs", &secs);
    printf("powerbtn: waiting\n");
    end = time_us() + secs * 1000000;
    while (time_us() < end) {
        if (inl(HP_GED) & GED_POWER) {
            printf("powerbtn: pressed\n");
            outb(SLEEP_CTL_PORT, SLP_EN | SLP_TYP_S5 << 2);
            return test_fail("still running after S5");
        }
        delay_us(1000);
    }
    return test_fail("no power-button event within %lu s", secs);
}
