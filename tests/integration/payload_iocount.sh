#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 240
# Issue 16, "the I/O path proven by counters": on a vfu-blk disk with
# dma=fd a guest I/O (one doorbell, one MSI-X completion) must cost
# minivmm no vCPU exit and the socket no message: the doorbell is an
# ioeventfd KVM signals straight to vfu-blk (GET_REGION_IO_FDS), the
# completion vfu-blk's eventfd wired as a KVM irqfd. bench/iocount.py runs
# the virtio payload's vblk-iocount stream (silent 4 KiB QD1 reads), reads
# the API "stats" and vfu-blk's counters before and after a 2 s window and
# divides by the requests vfu-blk served in it (at least 1000). Bound: at
# most 5 exits and 5 messages per 1000 I/Os (measured: 0 and 0). Then the
# same with `vfu-blk --ioeventfds=off` (every doorbell traps to minivmm and
# goes out as a posted REGION_WRITE) must break that bound, with about one
# trapped doorbell, one MMIO exit and one message per I/O: the bound
# catches a doorbell that goes through minivmm. Counts, not times.
: "${BUILD:=build}"
name=payload_iocount
. tests/integration/lib.sh
need_kvm
need_bins minivmm vfu-blk guest/virtio.elf
make_dir
# io NAME ARGS...: bench/iocount.py ARGS with the bounds, JSON to NAME.json
io() {
    f=$1
    shift
    python3 bench/iocount.py --build "$BUILD" --min-ios 1000 --max-exits 5 \
        --max-messages 5 --json "$dir/$f.json" "$@"
}

io fd fd --label dma=fd
rc=$?
[ "$rc" -eq 0 ] || fail "dma=fd: exit $rc (3: over the bound)"

rc=0
io trapped fd --vfu-arg=--ioeventfds=off --label "dma=fd,trapped" ||
    rc=$?
[ "$rc" -eq 3 ] ||
    fail "trapped doorbells: exit $rc, want 3 (the bound must break)"
python3 - "$dir/trapped.json" <<'PY' || fail "trapped doorbells: counters"
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("trapped_doorbells", "vmm_exits_mmio", "messages"):
    if not 900 <= r[k] <= 1100:
        sys.exit(f"{k} {r[k]:.1f} per 1000 I/Os, want about 1000: {r}")
PY
echo "$name: PASS"
