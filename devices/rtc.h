/* SPDX-License-Identifier: BSD-3-Clause */
/* MC146818-style RTC and CMOS RAM (docs/platform.md: ports 0x70-0x71).
 *
 * Port 0x70 (write-only; reads all-ones) selects a CMOS byte (bits 0-6);
 * bit 7 set disables NMI (kept and saved; the in-kernel LAPIC/IOAPIC do not
 * model the NMI gate, so it has no further effect). Port 0x71 reads/writes
 * the selected byte. Only 1-byte accesses are meaningful.
 *
 * Time registers (0x00 seconds, 0x02 minutes, 0x04 hours, 0x06 day of week
 * (1 = Sunday), 0x07 day of month, 0x08 month, 0x09 year, 0x32 century) are
 * computed from the host wall clock (UTC) plus a guest offset, encoded per
 * register B: BCD unless DM (bit 2), 12-hour with bit 7 = PM unless 24/12
 * (bit 1). Setting B.SET (bit 7) freezes them (the guest then writes new
 * values); clearing it sets the guest offset from them. A time register
 * written while SET is clear changes the clock at once.
 *
 * Register A: UIP (bit 7) reads 1 during the last 244 us of every host
 * second, as the update cycle would; bits 0-6 are stored. Register C
 * reads 0 and register D reads 0x80 (VRT: battery good). Alarms and the
 * divider/rate bits are stored but do nothing: this RTC raises no periodic,
 * alarm or update-ended interrupts (IRQ 8 is never asserted), which Linux
 * copes with (it reads the time by polling UIP).
 *
 * CMOS memory-size bytes are set at creation (as SeaBIOS/QEMU do):
 * 0x15/0x16 base memory (640 KiB), 0x17/0x18 and 0x30/0x31 KiB above 1 MiB
 * (max 65535), 0x34/0x35 RAM between 16 MiB and 4 GiB in 64 KiB units (max
 * 65535), 0x5B-0x5D RAM above 4 GiB in 64 KiB units; with the checksum of
 * 0x10-0x2D at 0x2E (high byte) / 0x2F.
 */
#ifndef MINIVMM_RTC_H
#define MINIVMM_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/state.h"

#define RTC_PORT_BASE 0x70
#define RTC_PORT_LEN  2
#define RTC_CMOS_SIZE 128

struct rtc_config {
    uint64_t ram_below_4g; /* bytes of guest RAM below 4 GiB (from 0) */
    uint64_t ram_above_4g; /* bytes of guest RAM from 4 GiB up */
    /* Wall clock in ns since the Unix epoch (UTC); NULL: CLOCK_REALTIME. */
    uint64_t (*clock_ns)(void *opaque);
    void *clock_opaque;
};

struct rtc;

/* 0 or -ENOMEM. The guest clock starts at host time (offset 0). */
int rtc_create(const struct rtc_config *cfg, struct rtc **out);
void rtc_destroy(struct rtc *rtc);

/* Port handlers, opaque = struct rtc *, RTC_PORT_LEN bytes at
 * RTC_PORT_BASE. */
extern const struct bus_ops rtc_bus_ops;

/* Whether the guest last selected a CMOS byte with NMI disabled. */
bool rtc_nmi_disabled(struct rtc *rtc);

/* Save/load the CMOS bytes, index register and the guest clock offset
 * (seconds relative to the host wall clock); opaque = struct rtc *. */
extern const struct state_ops rtc_state_ops;

#endif
