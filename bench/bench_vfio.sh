#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# vfio-user device costs with vfu-blk, measured from the vfio payload
# (tests/guest/vfio/bench_vfio.c):
#   guest doorbell through a KVM ioeventfd vs a trapped register write
#   (vCPU exit + REGION_WRITE) and a trapped read (REGION_READ round trip);
#   interrupt delivery (server eventfd -> KVM irqfd), requests per second
#   each waiting for its MSI-X interrupt. Throughput beside the in-VMM
#   disk (dma=fd and dma=message): bench/bench_virtio_blk.sh.
# Numbers only; no assertions. Skips without /dev/kvm or vfu-blk.
: "${BUILD:=build}"
[ -c /dev/kvm ] && [ -x "$BUILD/vfu-blk" ] || { echo "bench_vfio: skipped"; exit 0; }
dir=$(mktemp -d) || exit 1
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
truncate -s 64M "$dir/d.img"

start_srv() {
    rm -f "$dir/s.sock"
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && return 0; sleep 0.1; done
    echo "bench_vfio: vfu-blk did not start"; exit 1
}

bench() { # payload tests vfio-options
    start_srv
    "$BUILD/minivmm" --kernel "$BUILD/guest/$1.elf" --memory 256M \
        --vfio-user "socket=$dir/s.sock$3" --cmdline "test=$2 bench-n=5000" \
        </dev/null 2>&1 | tr -d '\r' | grep '^BENCH' | sed "s/\$/${3:+ ($3)}/"
    kill "$srv"; wait "$srv" 2>/dev/null; srv=
}

bench vfio bench-vfio ""
