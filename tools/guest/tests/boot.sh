#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Boot smoke test: prints what the guest kernel found, then runs the
# pvm-syscall.patch self-test (pvm_syscall.sh; ~0.3 s), whose status is the
# test's. (The host side checks the MINIVMM-* markers from /init.)
# Few processes: each fork+exec costs ~0.25 s of emulated kernel on kvm_pvm.
read -r cmdline < /proc/cmdline
echo "kernel: $(uname -rm); cmdline: $cmdline"
echo "pci:" /sys/bus/pci/devices/*
. /tests/pvm_syscall.sh
