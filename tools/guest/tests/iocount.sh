#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# iocount test (bench/iocount_linux.sh, docs/bench.md "Per-I/O
# counters"): Linux's virtio_blk driver doing N (iocount.n=, default
# 2000) 4 KiB O_DIRECT reads of /dev/vda at QD1 with dd, between two
# markers the host reads its counters at: "IOCOUNT-READY", then after
# iocount.wait= seconds (default 5; the host answers at once) the reads,
# then "IOCOUNT-DONE N" and as long again before the test ends.
n=2000
w=5
for arg in $(cat /proc/cmdline); do
    case $arg in
    iocount.n=*) n=${arg#iocount.n=} ;;
    iocount.wait=*) w=${arg#iocount.wait=} ;;
    esac
done
echo "IOCOUNT-READY"
sleep "$w"
dd if=/dev/vda of=/dev/null bs=4096 count="$n" iflag=direct 2>/dev/null
rc=$?
echo "IOCOUNT-DONE $n"
sleep "$w"
exit $rc
