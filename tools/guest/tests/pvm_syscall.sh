#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Checks the guest kernel's kvm_pvm SYSCALL workaround (pvm-syscall.patch)
# on any host: /bin/pvm-selftest fakes kvm_pvm's faulting SYSCALL by
# jumping to entry_SYSCALL_64 in user mode (see tools/guest/pvm-selftest.c).
read -r entry < /etc/minivmm/entry_SYSCALL_64
exec /bin/pvm-selftest "$entry"
