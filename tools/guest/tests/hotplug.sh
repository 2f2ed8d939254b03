#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# hotplug test (tests/integration/linux_hotplug.sh): a vfu-blk disk
# hot-added by the host's device-add (ACPI: GED -> Device Check on the
# slot -> acpiphp) is bound by virtio_blk; dd writes a pattern; the host's
# device-remove (Eject Request -> acpiphp unbinds, _EJ0) makes the PCI
# function go away; then the power button (PNP0C0C, KEY_POWER on
# /dev/input/event0) ends the test, as the host's SIGTERM presses it.
# Markers:
#   HOTPLUG-READY
#   HOTPLUG-IO-DONE <pci address> <serial>
#   HOTPLUG-REMOVED <pci address>
#   POWERBTN-WAITING, POWERBTN-PRESSED
wait_for() { # test-args... ; up to 120 s
    i=0
    while ! test "$@"; do
        i=$((i + 1))
        [ "$i" -le 600 ] || return 1
        sleep 0.2
    done
}
echo "HOTPLUG-READY"
wait_for -e /sys/block/vda/serial || { echo "HOTPLUG-FAIL no disk"; exit 1; }
dev=$(readlink -f /sys/block/vda/device)
pci=${dev%/*}
pci=${pci##*/}
read -r serial < /sys/block/vda/serial
printf 'MINIVMM-LINUX-HOTPLUG-PATTERN\n' |
    dd of=/dev/vda bs=4096 seek=3 conv=sync,fsync 2>/dev/null ||
    { echo "HOTPLUG-FAIL dd"; exit 1; }
echo "HOTPLUG-IO-DONE $pci $serial"
wait_for ! -e "/sys/bus/pci/devices/$pci" ||
    { echo "HOTPLUG-FAIL $pci still there"; exit 1; }
echo "HOTPLUG-REMOVED $pci"
[ -e /sys/block/vda ] && { echo "HOTPLUG-FAIL vda still there"; exit 1; }
# Open the button's event device before saying so: evdev queues events
# for a reader only from its open() on.
[ -c /dev/input/event0 ] && exec 3</dev/input/event0 ||
    { echo "POWERBTN-FAIL no /dev/input/event0"; exit 1; }
echo "POWERBTN-WAITING"
dd bs=24 count=1 <&3 >/dev/null 2>&1 ||
    { echo "POWERBTN-FAIL reading /dev/input/event0"; exit 1; }
echo "POWERBTN-PRESSED"
exit 0
