#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# vfio_blk test (tests/integration/linux_vfio_blk.sh): Linux's own
# virtio_blk driver on a vfu-blk device that minivmm presents through its
# vfio-user client. Writes a pattern with dd at byte 8192 of /dev/vda,
# reads it back past the page cache and prints
#   VFIO-BLK <serial> <what was read back>
# The host then checks the pattern is in vfu-blk's disk file.
rc=0
read -r serial < /sys/block/vda/serial
printf 'MINIVMM-LINUX-VFIO-BLK-PATTERN\n' |
    dd of=/dev/vda bs=4096 seek=2 conv=sync,fsync 2>/dev/null || rc=1
got=$(dd if=/dev/vda bs=4096 skip=2 count=1 iflag=direct 2>/dev/null |
      head -n 1)
echo "VFIO-BLK $serial $got"
[ "$got" = MINIVMM-LINUX-VFIO-BLK-PATTERN ] || rc=1
exit $rc
