/* SPDX-License-Identifier: BSD-3-Clause */
/* vCPU and irqchip state as registry entries (see machine_state.h). */
#include "minivmm/machine_state.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu_state.h"
#include "arch/x86/irqchip_state.h"
#include "minivmm/vcpu.h"
#include "vmm/devreg.h"
#include "vmm/log.h"

#define NOTE_MAX 512

static void log_note(const char *note)
{
    if (note[0])
        log_warn("minivmm: note: not saved on this host: %s", note);
}

static int vcpus_save(void *opaque, void *fdt, int vn)
{
    struct machine_state *m = opaque;
    char name[32], note[NOTE_MAX] = "";
    int r = 0;

    for (unsigned int i = 0; r == 0 && i < m->nvcpus; i++) {
        int node;

        snprintf(name, sizeof(name), "cpu@%u", i);
        node = fdt_add_subnode(fdt, vn, name);
        r = node == -FDT_ERR_NOSPACE ? -ENOSPC : node < 0 ? -EINVAL :
            x86_cpu_state_save(m->kvm, m->vcpus[i].fd, fdt, node, note,
                               sizeof(note));
    }
    if (r == 0)
        log_note(note);
    return r;
}

static int vcpus_load(void *opaque, const void *fdt, int vn)
{
    struct machine_state *m = opaque;
    char name[32], why[256];
    int node, count = 0;

    fdt_for_each_subnode(node, fdt, vn)
        count++;
    if (count != (int)m->nvcpus) {
        log_err("minivmm: state tree has %d vCPUs, the VM %u", count,
                m->nvcpus);
        return -EINVAL;
    }
    for (unsigned int i = 0; i < m->nvcpus; i++) {
        int r;

        snprintf(name, sizeof(name), "cpu@%u", i);
        node = fdt_subnode_offset(fdt, vn, name);
        r = node < 0 ? -EINVAL :
            x86_cpu_state_load(m->vcpus[i].fd, fdt, node, why, sizeof(why));
        if (r < 0) {
            log_err("minivmm: vCPU %u: %s", i, node < 0 ? "no state" : why);
            return r;
        }
    }
    return 0;
}

static int irqchip_save(void *opaque, void *fdt, int node)
{
    struct machine_state *m = opaque;
    char note[NOTE_MAX] = "";
    int r = x86_irqchip_state_save(m->kvm, fdt, node, note, sizeof(note));

    if (r == 0)
        log_note(note);
    return r;
}

static int irqchip_load(void *opaque, const void *fdt, int node)
{
    struct machine_state *m = opaque;
    char why[256];
    int r = x86_irqchip_state_load(m->kvm, fdt, node, why, sizeof(why));

    if (r < 0)
        log_err("minivmm: irqchip: %s", why);
    return r;
}

static const struct state_ops vcpus_ops = { vcpus_save, vcpus_load };
static const struct state_ops irqchip_ops = { irqchip_save, irqchip_load };

int machine_state_join(struct machine_state *m, char *err, size_t errlen)
{
    struct devreg_entry v = {
        .id = "vcpus", .state = &vcpus_ops, .opaque = m,
        .flags = DEVREG_F_ROOT,
    };
    struct devreg_entry i = {
        .id = "irqchip", .state = &irqchip_ops, .opaque = m,
        .flags = DEVREG_F_ROOT | DEVREG_F_OPTIONAL,
    };
    int r = devreg_add(m->devs, &v);

    if (r == 0 && (r = devreg_add(m->devs, &i)) < 0)
        devreg_del(m->devs, "vcpus");
    if (r < 0)
        snprintf(err, errlen, "device registry: vCPU/irqchip state: %s",
                 strerror(-r));
    m->joined = r == 0;
    return r;
}

void machine_state_leave(struct machine_state *m)
{
    if (!m->joined)
        return;
    devreg_del(m->devs, "irqchip");
    devreg_del(m->devs, "vcpus");
    m->joined = false;
}
