/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of KVM-bound files replace vmm/kvm.c's calls with their own
 * fakes by linking with -Wl,--wrap=kvm_<call> (tests/unit/test_<name>.ldflags
 * lists them): a call from the library then lands in __wrap_kvm_<call>,
 * which the test defines. The fake's state lives in a struct whose first
 * member is the struct kvm handed to the code under test, so a wrapper
 * gets back to it from its kvm argument (no globals). The prototypes of
 * the wrappers, one place for every test that defines some of them. */
#ifndef MINIVMM_TESTS_FAKE_KVM_H
#define MINIVMM_TESTS_FAKE_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/kvm.h"

int __wrap_kvm_create_platform(const struct kvm *kvm, uint64_t tss_gpa);
int __wrap_kvm_set_gsi_routing(const struct kvm *kvm,
                               const struct kvm_irq_routing_entry *entries,
                               uint32_t nr);
int __wrap_kvm_irq_line(const struct kvm *kvm, uint32_t gsi, bool level);
int __wrap_kvm_irqfd(const struct kvm *kvm, int fd, uint32_t gsi,
                     int resample_fd, bool deassign);
int __wrap_kvm_ioeventfd(const struct kvm *kvm, int fd, uint64_t addr,
                         uint32_t len, bool pio, bool datamatch,
                         uint64_t data, bool deassign);
int __wrap_kvm_set_memslot(const struct kvm *kvm, uint32_t slot,
                           uint64_t gpa, uint64_t size, void *hva,
                           uint32_t flags);
int __wrap_kvm_enable_manual_dirty_log(const struct kvm *kvm);
int __wrap_kvm_get_dirty_log(const struct kvm *kvm, uint32_t slot,
                             void *bitmap);
int __wrap_kvm_clear_dirty_log(const struct kvm *kvm, uint32_t slot,
                               uint64_t first, uint32_t num, void *bitmap);

#endif
