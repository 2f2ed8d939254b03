#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Print the kernel parameters a kit guest needs on this host (possibly none).
# Used by tests/integration/linux_*.sh: --cmdline "console=ttyS0 $(...)".
#
# kvm_pvm (/dev/kvm without VMX/SVM; guest CPL0 is emulated): its emulator
# cannot execute xsave/xrstor, cmpxchg16b, popcnt or clac/stac, and it applies
# KVM_SET_CPUID2 only to the bits KVM itself reports, so minivmm cannot hide
# those features through CPUID (see README.md). The guest kernel is told on
# its command line instead. On hardware KVM nothing is needed.
if [ -d /sys/module/kvm_pvm ]; then
    echo "noxsave clearcpuid=cx16,popcnt,smap,smep"
fi
