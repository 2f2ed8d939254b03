#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# gpio_idio16 test (tests/interop/interop_linux_gpio.sh): Linux's
# gpio_pci_idio_16 driver bound to libvfio-user's gpio-pci-idio-16 sample
# (494f:0dc8) under minivmm. Finds the PCI function and its gpiochip,
# exports line OUT0 through the legacy sysfs interface and reads its value
# 12 times (each read is one ioread8 of BAR2[0], which the sample answers
# with pin++ / 3), printing
#   GPIO-IDIO16 bound <pci name> driver <driver>
#   GPIO-IDIO16 chip <gpiochipN> base <B> ngpio <N>
#   GPIO-IDIO16 values <v1 v2 ... v12>
# The host checks the values change (the server's counter) and the
# sample's log shows the reads. Reads use the shell's `read` (no fork).
rc=1
dev=
for d in /sys/bus/pci/devices/*; do
    read -r v < "$d/vendor"; read -r p < "$d/device"
    [ "$v" = 0x494f ] && [ "$p" = 0x0dc8 ] && dev=$d
done
[ -n "$dev" ] || { echo "GPIO-IDIO16 no 494f:0dc8 device"; exit 1; }
name=${dev##*/}
drv=none
[ -e "$dev/driver" ] && drv=$(readlink "$dev/driver") && drv=${drv##*/}
echo "GPIO-IDIO16 bound $name driver $drv"
[ "$drv" = pci-idio-16 ] || { dmesg | grep -i -e idio -e "$name"; exit 1; }
chip=
for c in /sys/class/gpio/gpiochip*; do
    read -r label < "$c/label"
    [ "$label" = "$name" ] && chip=$c
done
[ -n "$chip" ] || { echo "GPIO-IDIO16 no gpiochip labelled $name"; exit 1; }
read -r base < "$chip/base"; read -r ngpio < "$chip/ngpio"
echo "GPIO-IDIO16 chip ${chip##*/} base $base ngpio $ngpio"
echo "$base" > /sys/class/gpio/export || exit 1
# The driver names its lines (OUT0...), and the sysfs node takes that name.
f=/sys/class/gpio/OUT0/value
[ -e "$f" ] || f=/sys/class/gpio/gpio$base/value
echo "GPIO-IDIO16 line $f"
values=
i=0
while [ $i -lt 12 ]; do
    read -r v < "$f" || exit 1
    values="$values $v"
    i=$((i + 1))
done
echo "GPIO-IDIO16 values$values"
case "$values" in *0*) case "$values" in *1*) rc=0 ;; esac ;; esac
exit $rc
