/* SPDX-License-Identifier: BSD-3-Clause */
/* In-kernel irqchip, PIT and kvmclock state (see irqchip_state.h). */
#include "arch/x86/irqchip_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/kvm.h>

#include "vmm/kvm.h"
#include "vmm/state.h"

static const struct {
    const char *name;
    uint32_t chip_id;
} chips[] = {
    { "pic-master", KVM_IRQCHIP_PIC_MASTER },
    { "pic-slave", KVM_IRQCHIP_PIC_SLAVE },
    { "ioapic", KVM_IRQCHIP_IOAPIC },
};
#define NCHIPS (sizeof(chips) / sizeof(chips[0]))

static int note_or_fail(int r, const char *what, char *note, size_t notelen)
{
    size_t n = strlen(note);

    if (r != -ENOTTY && r != -EINVAL && r != -ENXIO)
        return r;
    if (n < notelen)
        snprintf(note + n, notelen - n, "%s: %s; ", what, strerror(-r));
    return 0;
}

int x86_irqchip_state_save(const struct kvm *kvm, void *fdt, int node,
                           char *note, size_t notelen)
{
    struct kvm_irqchip chip;
    struct kvm_pit_state2 pit;
    struct kvm_clock_data clock;
    int r = 0;

    for (unsigned int i = 0; r == 0 && i < NCHIPS; i++) {
        memset(&chip, 0, sizeof(chip));
        chip.chip_id = chips[i].chip_id;
        r = kvm_vm_ioctl(kvm, KVM_GET_IRQCHIP, &chip);
        if (r == 0)
            r = state_put_bytes(fdt, node, chips[i].name, &chip,
                                sizeof(chip));
        else
            r = note_or_fail(r, chips[i].name, note, notelen);
    }
    memset(&pit, 0, sizeof(pit));
    if (r == 0 && (r = kvm_vm_ioctl(kvm, KVM_GET_PIT2, &pit)) == 0)
        r = state_put_bytes(fdt, node, "pit", &pit, sizeof(pit));
    else if (r < 0)
        r = note_or_fail(r, "pit", note, notelen);
    memset(&clock, 0, sizeof(clock));
    if (r == 0 && (r = kvm_vm_ioctl(kvm, KVM_GET_CLOCK, &clock)) == 0)
        r = state_put_u64(fdt, node, "kvmclock-ns", clock.clock);
    else if (r < 0)
        r = note_or_fail(r, "kvmclock", note, notelen);
    return r;
}

/* Read property @name of exactly @len bytes into @buf: 1 loaded, 0 absent,
 * -EINVAL wrong size. */
static int get(const void *fdt, int node, const char *name, void *buf,
               size_t len, char *err, size_t errlen)
{
    int r = state_get_bytes(fdt, node, name, buf, len);

    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        snprintf(err, errlen, "irqchip property '%s': wrong size", name);
        return -EINVAL;
    }
    return 1;
}

static int set(const struct kvm *kvm, unsigned long req, void *arg,
               const char *name, char *err, size_t errlen)
{
    int r = kvm_vm_ioctl(kvm, req, arg);

    if (r < 0)
        snprintf(err, errlen, "restoring %s: %s", name, strerror(-r));
    return r < 0 ? r : 0;
}

int x86_irqchip_state_load(const struct kvm *kvm, const void *fdt, int node,
                           char *err, size_t errlen)
{
    struct kvm_irqchip chip;
    struct kvm_pit_state2 pit;
    struct kvm_clock_data clock;
    uint64_t ns;
    int r = 0;

    for (unsigned int i = 0; r >= 0 && i < NCHIPS; i++) {
        r = get(fdt, node, chips[i].name, &chip, sizeof(chip), err, errlen);
        if (r > 0 && chip.chip_id != chips[i].chip_id) {
            snprintf(err, errlen, "irqchip property '%s': chip id %u",
                     chips[i].name, chip.chip_id);
            return -EINVAL;
        }
        if (r > 0)
            r = set(kvm, KVM_SET_IRQCHIP, &chip, chips[i].name, err, errlen);
    }
    if (r >= 0)
        r = get(fdt, node, "pit", &pit, sizeof(pit), err, errlen);
    if (r > 0)
        r = set(kvm, KVM_SET_PIT2, &pit, "pit", err, errlen);
    if (r >= 0) {
        r = state_get_u64(fdt, node, "kvmclock-ns", &ns);
        if (r == -ENOENT)
            return 0;
        memset(&clock, 0, sizeof(clock));
        clock.clock = ns;
        if (r == 0)
            r = set(kvm, KVM_SET_CLOCK, &clock, "kvmclock", err, errlen);
        else
            snprintf(err, errlen, "irqchip property 'kvmclock-ns': bad");
    }
    return r < 0 ? r : 0;
}
