#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# In-VMM virtio-blk from the virtio payload's polling driver (bench-vblk in
# tests/guest/virtio/bench_vblk.c): 4 KiB random reads at queue depth 32
# (IOPS) and 128 KiB sequential reads at depth 8 (MB/s), SECS seconds each,
# on a 256 MiB file written beforehand (page cache: this measures the
# device path, not the disk). Numbers, not assertions. The vfu-blk and QEMU
# columns of issue 5 are not measured here yet.
: "${BUILD:=build}" "${SECS:=2}"
payload=$BUILD/guest/virtio.elf
[ -f "$payload" ] || { echo "no $payload (make guest)"; exit 1; }
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "no usable /dev/kvm: skipped"; exit 0; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
dd if=/dev/zero of="$dir/disk.img" bs=1M count=256 status=none
"$BUILD/minivmm" --kernel "$payload" --memory 512M \
    --disk path="$dir/disk.img" --cmdline "test=bench-vblk bench-secs=$SECS" \
    </dev/null >"$dir/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
    tr -d '\r' <"$dir/out"
    echo "bench_virtio_blk: minivmm exited $rc"
    exit 1
fi
tr -d '\r' <"$dir/out" | sed -n 's/^BENCH /in-VMM virtio-blk: /p'
