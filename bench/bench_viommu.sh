#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# What --viommu virtio costs (docs/viommu.md): the virtio payload's
# bench-vblk on vfu-blk and on an in-VMM virtio-blk without and with the
# vIOMMU (bypass: the 1:1 map), then bench-viommu (4 KiB reads at QD 1
# through a far IOVA, "lazy": one mapping set up once, "strict": MAP and
# UNMAP around every read as Linux does with iommu.strict=1) and, for
# vfu-blk, vfu-blk's vfio-user commands per strict read (an upper bound:
# set-up commands are counted too; each strict read should take 2, one
# DMA_MAP and one DMA_UNMAP). Numbers only; no assertions.
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
    grep '^BENCH' "$dir/out" | sed "s/\$/ ($label)/"
}
for v in "" "--viommu virtio"; do
    start_srv
    # shellcheck disable=SC2086
    run "vfu-blk${v:+, $v}" bench-vblk $v --vfio-user socket="$dir/s.sock"
    stop_srv
    # shellcheck disable=SC2086
    run "virtio-blk${v:+, $v}" bench-vblk $v --disk path="$dir/d.img"
done
start_srv
run "vfu-blk" bench-viommu --viommu virtio --vfio-user socket="$dir/s.sock"
stop_srv
reads=$(sed -n 's/^BENCH viommu-strict.*(\([0-9]*\) reads)$/\1/p' "$dir/out")
cmds=$(grep "requests=" "$dir/srv.log" | tail -1 | tr ' ' '\n' |
       sed -n 's/^commands=//p')
[ -n "$reads" ] && [ "$reads" -gt 0 ] && [ -n "$cmds" ] &&
    echo "BENCH viommu-strict-vfio-user-commands-per-read" \
         "$(awk "BEGIN { printf \"%.2f\", $cmds / $reads }") (upper bound)"
run "virtio-blk" bench-viommu --viommu virtio --disk path="$dir/d.img"
exit 0
