#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# What --viommu virtio costs (docs/viommu.md): the virtio payload's
# bench-vblk on vfu-blk and on an in-VMM virtio-blk without and with the
# vIOMMU (bypass: the 1:1 map), then bench-viommu (4 KiB reads at QD 1
# through a far IOVA, "lazy": one mapping set up once, "strict": MAP and
# UNMAP around every read as Linux does with iommu.strict=1) and, for
# vfu-blk, vfu-blk's vfio-user commands per strict read (an upper bound:
# set-up commands are counted too; each strict read should take 2, one
# DMA_MAP and one DMA_UNMAP). The same rows for --viommu intel (the VT-d
# unit): bench-vblk with translation off (identity), then bench-vtd
# (tests/guest/virtio/test_vtd.c: "lazy": the buffer's page mapped once;
# "strict": page-table entry set + page-selective IOTLB invalidation
# through the queue before, entry cleared + invalidation after every
# read, as Linux does with iommu.strict=1 under caching mode) and
# vfu-blk's commands per strict read. Rows without minivmm's --viommu
# intel are left out. Numbers only; no assertions.
: "${BUILD:=build}"
[ -c /dev/kvm ] && [ -x "$BUILD/vfu-blk" ] || { echo "bench_viommu: skipped"; exit 0; }
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
    echo "bench_viommu: vfu-blk did not start"; exit 1
}
stop_srv() {
    kill "$srv"
    i=0
    until grep -q "requests=" "$dir/srv.log" || [ "$i" -gt 100 ]; do
        i=$((i + 1)); sleep 0.05
    done
    wait "$srv" 2>/dev/null; srv=
}
run() { # label test device-options...
    label=$1 t=$2; shift 2
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M "$@" \
        --cmdline "test=$t" </dev/null 2>&1 | tr -d '\r' >"$dir/out"
    grep '^BENCH' "$dir/out" | sed "s/\$/ ($label)/" | tee -a "$dir/rows"
}
intel=
"$BUILD/minivmm" --help 2>&1 | grep -qw intel && intel="--viommu intel"
for v in "" "--viommu virtio" ${intel:+"$intel"}; do
    start_srv
    # shellcheck disable=SC2086
    run "vfu-blk${v:+, $v}" bench-vblk $v --vfio-user socket="$dir/s.sock"
    stop_srv
    # shellcheck disable=SC2086
    run "virtio-blk${v:+, $v}" bench-vblk $v --disk path="$dir/d.img"
done
bench_iommu() { # payload-test --viommu-model row-prefix
    start_srv
    run "vfu-blk" "$1" --viommu "$2" --vfio-user socket="$dir/s.sock"
    stop_srv
    reads=$(sed -n "s/^BENCH $3-strict.*(\([0-9]*\) reads)\$/\1/p" "$dir/out")
    cmds=$(grep "requests=" "$dir/srv.log" | tail -1 | tr ' ' '\n' |
           sed -n 's/^commands=//p')
    [ -n "$reads" ] && [ "$reads" -gt 0 ] && [ -n "$cmds" ] &&
        echo "BENCH $3-strict-vfio-user-commands-per-read" \
             "$(awk "BEGIN { printf \"%.2f\", $cmds / $reads }") (upper bound)"
    run "virtio-blk" "$1" --viommu "$2" --disk path="$dir/d.img"
}
bench_iommu bench-viommu virtio viommu
[ -n "$intel" ] && bench_iommu bench-vtd intel vtd
# The VT-d unit's QD-1 IOPS over the virtio-iommu's, per device and mode.
iops() { # row-prefix mode device
    sed -n "s/^BENCH $1-$2-read-4k-qd1 \([0-9]*\) IOPS .*($3)\$/\1/p" \
        "$dir/rows" | head -n 1
}
for d in vfu-blk virtio-blk; do
    for m in lazy strict; do
        a=$(iops vtd "$m" "$d") b=$(iops viommu "$m" "$d")
        [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt 0 ] &&
            echo "BENCH vtd-vs-viommu-$m-iops-ratio" \
                 "$(awk "BEGIN { printf \"%.2f\", $a / $b }") ($d)"
    done
done
exit 0
