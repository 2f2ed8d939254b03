#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# demo test (tools/demo.sh, `make demo`): what the guest sees of the
# vfio-user disk that minivmm presents, then a write + read-back.
# Prints, for the host to show and check:
#   DEMO-PCI <lspci-style line>            one per PCI function
#   DEMO-DISK /dev/vda size=<bytes> serial=<serial>
#   DEMO-READBACK OK|BAD <what was read back>
# Shell builtins where possible: each fork costs ~0.25 s on kvm_pvm hosts.
rc=0
for d in /sys/bus/pci/devices/*; do
    [ -e "$d/vendor" ] || continue
    read -r ven < "$d/vendor"; read -r dev < "$d/device"
    read -r cls < "$d/class"
    drv=none
    [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
    case $cls in
    0x0100*) what="SCSI storage controller (virtio-blk)" ;;
    0x0600*) what="Host bridge" ;;
    0x0601*) what="ISA bridge" ;;
    0x0200*) what="Ethernet controller" ;;
    0x0780*) what="Communication controller" ;;
    *) what="class ${cls#0x}" ;;
    esac
    echo "DEMO-PCI ${d##*/0000:} $what [${ven#0x}:${dev#0x}] driver=$drv"
done
if [ ! -e /sys/block/vda ]; then
    echo "DEMO-DISK none (no /dev/vda: the vfio-user disk did not appear)"
    exit 1
fi
read -r sectors < /sys/block/vda/size
read -r serial < /sys/block/vda/serial
echo "DEMO-DISK /dev/vda size=$((sectors * 512)) serial=$serial"
pattern=MINIVMM-DEMO-PATTERN-$sectors
printf '%s\n' "$pattern" |
    dd of=/dev/vda bs=4096 seek=2 conv=sync,fsync 2>/dev/null || rc=1
got=$(dd if=/dev/vda bs=4096 skip=2 count=1 iflag=direct 2>/dev/null |
      head -n 1)
if [ "$got" = "$pattern" ]; then
    echo "DEMO-READBACK OK wrote and read back '$got' at byte 8192"
else
    echo "DEMO-READBACK BAD wrote '$pattern', read back '$got'"
    rc=1
fi
exit $rc
