#!/bin/sh
# Boot smoke test: prints what the guest kernel found. Always succeeds once
# userspace runs (the host side checks the MINIVMM-* markers from /init).
echo "kernel: $(uname -r) $(uname -m)"
echo "cmdline: $(cat /proc/cmdline)"
grep -m1 'model name' /proc/cpuinfo
ls /sys/bus/pci/devices
exit 0
