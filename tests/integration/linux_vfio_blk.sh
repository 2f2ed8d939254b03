#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 600
# Linux's virtio_blk driver on a vfu-blk device through minivmm's vfio-user
# client: dd writes a pattern and reads it back (guest side:
# tools/guest/tests/vfio_blk.sh), the guest powers off, and the host file
# holds the pattern at byte 8192. vfu-blk's counters must show ioeventfd
# doorbells and MSI-X interrupts. Exit 0 pass, 77 skip, else fail.
name=linux_vfio_blk
. "$(dirname "$0")/lib_linux.sh"
need_linux vfu-blk
linux_dir
truncate -s 64M "$dir/disk.img"
start_vfu "$dir/disk.img"
run_linux 500 --vfio-user socket="$dir/s.sock",id=vfioblk \
    --cmdline "console=ttyS0 minivmm.test=vfio_blk $(host_args)"
stop_vfu
grep -E "VFIO-BLK|MINIVMM-TEST-DONE|vfio-user" "$dir/log" >&2
counters=$(grep "requests=" "$dir/srv.log" | tail -1)
echo "$name: vfu-blk $counters" >&2
[ "$rc" -eq 0 ] || note "minivmm exited $rc, want 0"
grep -q "^VFIO-BLK .* MINIVMM-LINUX-VFIO-BLK-PATTERN$" "$dir/log" ||
    note "no good VFIO-BLK line"
block_is "$dir/disk.img" 2 MINIVMM-LINUX-VFIO-BLK-PATTERN ||
    note "the pattern is not in the host file at 8192"
echo "$counters" | grep -q "doorbells_ioeventfd=[1-9]" ||
    note "no doorbells through ioeventfds"
echo "$counters" | grep -q "irqs_msix=[1-9]" || note "no MSI-X interrupts"
grep -q "MINIVMM-TEST-DONE 0" "$dir/log" || note "guest test did not pass"
verdict 30 "$dir/log"
