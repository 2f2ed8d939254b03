/* SPDX-License-Identifier: BSD-3-Clause */
/* A virtual machine: KVM VM, guest RAM, buses, irqchip, platform devices,
 * vCPUs, event loop; built in a visible order from a vm_config, run until
 * the guest or the host stops it. */
#ifndef MINIVMM_VM_H
#define MINIVMM_VM_H

#include <stddef.h>

struct boot_image;
struct guest_memory;
struct kvm_early;
struct snap_lazy;
struct vm;
struct vm_config;

/* Build the VM and load the guest. 0; -EINVAL when the configuration does
 * not fit this host (vCPUs above KVM's limit) or -ENOSPC when guest RAM is
 * too small for what must be loaded (both the user's error); other -errno
 * for host failures. The reason is in @err either way. */
int vm_create(const struct vm_config *cfg, const struct boot_image *img,
              struct vm **out, char *err, size_t errlen);

/* What a restored VM starts from (vmm/snapshot_file.h, vmctl.h). */
struct vm_restore {
    struct guest_memory *mem;   /* guest RAM already loaded; taken over */
    const void *state;          /* the snapshot's validated state tree */
    struct snap_lazy *lazy;     /* RAM still loading on demand (NULL: all
                                 * loaded); taken over by the VM, also when
                                 * vm_restore() fails */
    struct kvm_early *early;    /* the KVM VM and memslots being made on a
                                 * thread (minivmm/kvm_early.h; NULL: made
                                 * inline); taken over like @lazy */
};

/* Build the VM of a snapshot: @cfg gives vCPUs and RAM as the snapshot
 * recorded them and the devices from the command line; no kernel is
 * loaded, vCPU, irqchip and device state come from @rs->state. Errors as
 * vm_create(); -EINVAL also when the state does not fit this VM (device
 * missing or refusing its state). */
int vm_restore(const struct vm_config *cfg, const struct vm_restore *rs,
               struct vm **out, char *err, size_t errlen);

/* Migration destination (vmm/migration_in.c): vm_restore() with
 * @rs->state NULL builds the VM without loading any state, so RAM can be
 * received straight into its memory (vm_guest_memory()) while the
 * source still runs; vm_load_state() then loads the state tree, before
 * vm_run(). 0 or -errno (-EINVAL: refused) with the reason in @err. */
struct guest_memory *vm_guest_memory(struct vm *vm);
int vm_load_state(struct vm *vm, const void *fdt, char *err, size_t errlen);

/* Run until the guest stops; returns minivmm's exit status for the reason
 * (docs/platform.md: 0 power-off, 1 host error, 3 reset, 4 crash, the
 * test-exit value, 128 + signal). */
int vm_run(struct vm *vm);

void vm_destroy(struct vm *vm);

/* After vm_run(): shut down what peers and files observe (API socket,
 * event log, vfio-user servers, virtio back-ends, console), flush stdio
 * and _exit(@status), leaving guest RAM, the KVM VM, vCPUs and all memory
 * to the kernel's process exit (docs/platform.md "Exit"). Never returns. */
void vm_exit_fast(struct vm *vm, int status) __attribute__((noreturn));

#endif
