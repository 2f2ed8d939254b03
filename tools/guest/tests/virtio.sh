#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# virtio test (tests/integration/linux_virtio.sh): the guest's own drivers
# on minivmm's virtio-pci devices. Prints VIRTIO-* markers the host checks:
#   VIRTIO-BLK <serial> <what was read back>   after writing a pattern to
#                                              /dev/vda at byte 4096
#   VIRTIO-NET ping ok|failed                  ping 10.99.0.1 over eth0
#   VIRTIO-RNG <rng_current>                   the hwrng in use
# and writes "MINIVMM-HVC0-LINE" to /dev/hvc0 (the host finds it on stdout).
# Few processes: each fork+exec costs ~0.25 s of emulated kernel on kvm_pvm.
rc=0
read -r serial < /sys/block/vda/serial
printf 'MINIVMM-LINUX-VBLK-PATTERN\n' |
    dd of=/dev/vda bs=4096 seek=1 conv=sync,fsync 2>/dev/null || rc=1
got=$(dd if=/dev/vda bs=4096 skip=1 count=1 iflag=direct 2>/dev/null |
      head -n 1)
echo "VIRTIO-BLK $serial $got"
[ "$got" = MINIVMM-LINUX-VBLK-PATTERN ] || rc=1

ip addr add 10.99.0.2/24 dev eth0 && ip link set eth0 up
if ping -c 1 -W 10 10.99.0.1 >/dev/null 2>&1; then
    echo "VIRTIO-NET ping ok"
else
    echo "VIRTIO-NET ping failed"
    rc=1
fi

echo "MINIVMM-HVC0-LINE from the guest" > /dev/hvc0 || rc=1

read -r rng < /sys/class/misc/hw_random/rng_current
echo "VIRTIO-RNG $rng"
case $rng in virtio_rng*) ;; *) rc=1 ;; esac
exit $rc
