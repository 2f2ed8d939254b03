/* SPDX-License-Identifier: BSD-3-Clause */
/* DSDT PCI hotplug, GED and power button (see acpi_hotplug.h). */
#include "arch/x86/acpi_hotplug.h"

#include <stdio.h>

#include "arch/x86/aml_expr.h"

#define HP_FIRST_SLOT 1
#define HP_LAST_SLOT 31
#define NOTIFY_DEVICE_CHECK 1
#define NOTIFY_EJECT_REQUEST 3
#define NOTIFY_POWER_BUTTON 0x80

static void slot_name(unsigned int slot, char name[5])
{
    snprintf(name, 5, "S%02X", slot);
}

/* If (And (Local@local, 1 << @slot)) { Notify (SNN, @code) } */
static void notify_if(struct aml *a, unsigned int local, unsigned int slot,
                      unsigned int code)
{
    char name[5];

    slot_name(slot, name);
    aml_if_begin(a);
    aml_op(a, AML_OP_AND);
    aml_local(a, local);
    aml_integer(a, 1ULL << slot);
    aml_no_target(a);
    aml_op(a, AML_OP_NOTIFY);
    aml_name_ref(a, name);
    aml_integer(a, code);
    aml_end(a);
}

static void pcnt_method(struct aml *a)
{
    aml_method_begin(a, "PCNT", 0);
    aml_op(a, AML_OP_STORE);
    aml_name_ref(a, "PCIU");
    aml_local(a, 0);
    aml_op(a, AML_OP_STORE);
    aml_name_ref(a, "PCID");
    aml_local(a, 1);
    for (unsigned int s = HP_FIRST_SLOT; s <= HP_LAST_SLOT; s++)
        notify_if(a, 0, s, NOTIFY_DEVICE_CHECK);
    for (unsigned int s = HP_FIRST_SLOT; s <= HP_LAST_SLOT; s++)
        notify_if(a, 1, s, NOTIFY_EJECT_REQUEST);
    aml_end(a);
}

static void slot_device(struct aml *a, unsigned int slot)
{
    char name[5];

    slot_name(slot, name);
    aml_device_begin(a, name);
    aml_name(a, "_ADR");
    aml_integer(a, (uint64_t)slot << 16);
    aml_name(a, "_SUN");
    aml_integer(a, slot);
    aml_method_begin(a, "_EJ0", 1);
    aml_op(a, AML_OP_STORE);
    aml_integer(a, 1ULL << slot);
    aml_name_ref(a, "B0EJ");
    aml_end(a);
    aml_end(a);
}

static void pci0_hotplug(struct aml *a, const struct x86_platform_desc *d)
{
    static const char *const regs[] = {"PCIU", "PCID", "B0EJ", "PRES"};

    aml_scope_begin(a, "PCI0");
    aml_opregion_io(a, "PCST", d->hotplug_port, 16);
    aml_field_begin(a, "PCST", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_ZEROS);
    for (unsigned int i = 0; i < 4; i++)
        aml_field_unit(a, regs[i], 32);
    aml_end(a);
    pcnt_method(a);
    for (unsigned int s = HP_FIRST_SLOT; s <= HP_LAST_SLOT; s++)
        slot_device(a, s);
    aml_end(a);
}

/* If (And (Local0, @bit)) { ... }: the body follows; caller closes. */
static void if_bit(struct aml *a, unsigned int bit)
{
    aml_if_begin(a);
    aml_op(a, AML_OP_AND);
    aml_local(a, 0);
    aml_integer(a, bit);
    aml_no_target(a);
}

static void ged_device(struct aml *a, const struct x86_platform_desc *d)
{
    aml_device_begin(a, "GED0");
    aml_name(a, "_HID");
    aml_string(a, "ACPI0013");
    aml_name(a, "_UID");
    aml_integer(a, 0);
    aml_name(a, "_CRS");
    aml_restemp_begin(a);
    aml_res_ext_irq(a, d->ged_gsi, 0); /* level, active-high */
    aml_end(a);
    aml_opregion_io(a, "GDST", (uint16_t)(d->hotplug_port + 16), 4);
    aml_field_begin(a, "GDST", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_ZEROS);
    aml_field_unit(a, "GDAT", 32);
    aml_end(a);
    aml_method_begin(a, "_EVT", 1);
    aml_op(a, AML_OP_STORE);
    aml_name_ref(a, "GDAT");
    aml_local(a, 0);
    if_bit(a, X86_GED_EV_PCI);
    aml_name_ref(a, "\\_SB.PCI0.PCNT");
    aml_end(a);
    if_bit(a, X86_GED_EV_POWER);
    aml_op(a, AML_OP_NOTIFY);
    aml_name_ref(a, "\\_SB.PWRB");
    aml_integer(a, NOTIFY_POWER_BUTTON);
    aml_end(a);
    aml_end(a);
    aml_end(a);
}

void acpi_dsdt_hotplug(struct aml *a, const struct x86_platform_desc *d)
{
    if (!d->hotplug_port)
        return;
    pci0_hotplug(a, d);
    aml_device_begin(a, "PWRB");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0C0C");
    aml_name(a, "_UID");
    aml_integer(a, 0);
    aml_end(a);
    ged_device(a, d);
}
