/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI hotplug controller and ACPI Generic Event Device registers
 * (docs/platform.md, "PCI hotplug"; the DSDT side: arch/x86/acpi_hotplug.h).
 * Five 32-bit registers on the port bus (4-byte accesses; narrower ones
 * read/write the corresponding bytes, a read of any byte of a read-clear
 * register clears the whole register):
 *
 *   +0x00 PCIU  slots that gained a device since the last read (read clears)
 *   +0x04 PCID  slots whose device the host asks the guest to release
 *               (read clears)
 *   +0x08 B0EJ  write 1 << slot: the guest released that slot's device
 *   +0x0C PRES  slots holding a removable device (read-only); B0EJ bits
 *               of other slots are ignored
 *   +0x10 GED   event bits (read clears): 1 a PCIU/PCID bit is pending, 2
 *               the power button was pressed
 *
 * The GED's GSI is level-triggered, active-high: asserted while the GED
 * register is non-zero, released when its read clears it. B0EJ writes accumulate in a
 * pending mask and call cfg->eject (on the vCPU thread: it must not block;
 * the owner takes the mask with hotplug_take_ejects() on its own thread).
 * Slots are 1..31 (slot 0 is the host bridge). Thread-safe. */
#ifndef MINIVMM_DEVICES_HOTPLUG_H
#define MINIVMM_DEVICES_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define HOTPLUG_REG_PCIU 0x00
#define HOTPLUG_REG_PCID 0x04
#define HOTPLUG_REG_B0EJ 0x08
#define HOTPLUG_REG_PRES 0x0C
#define HOTPLUG_REG_GED 0x10
#define HOTPLUG_LEN 0x14
#define HOTPLUG_GED_PCI 0x1
#define HOTPLUG_GED_POWER 0x2

struct hotplug_config {
    struct irq_chip irq;     /* irq.ops NULL: no interrupt (tests) */
    uint32_t gsi;
    void (*eject)(void *opaque); /* B0EJ written; may be NULL */
    void *opaque;
};

struct hotplug;

/* 0 or -ENOMEM. @cfg is copied. */
int hotplug_create(const struct hotplug_config *cfg, struct hotplug **out);
void hotplug_destroy(struct hotplug *hp);
/* The registers as a bus device (opaque = struct hotplug *). */
extern const struct bus_ops hotplug_bus_ops;

/* Slot @slot (1..31) holds a device from the start: PRES only. */
void hotplug_set_present(struct hotplug *hp, unsigned int slot, bool on);
/* A device was added at @slot: PRES, PCIU, GED PCI event, interrupt. */
void hotplug_notify_added(struct hotplug *hp, unsigned int slot);
/* Ask the guest to release @slot: PCID, GED PCI event, interrupt. */
void hotplug_request_eject(struct hotplug *hp, unsigned int slot);
/* The slots the guest released since the last call (B0EJ), cleared. */
uint32_t hotplug_take_ejects(struct hotplug *hp);
/* Press the ACPI power button: GED power event, interrupt. */
void hotplug_power_button(struct hotplug *hp);

#endif
