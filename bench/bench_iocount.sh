#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Issue 16, "the I/O path proven by counters": what one guest I/O costs,
# per 1000 I/Os, for the in-VMM virtio-blk and a vfu-blk disk with dma=fd
# and dma=message, side by side: VMM exits (vCPU exits that reach
# minivmm), VMM wakeups (the event loop's and the vfio-user endpoints'
# blocking waits returning), server wakeups (vfu-blk's), vfio-user
# messages on the socket (both ways). The virtio payload's vblk-iocount
# stream: 4 KiB random reads at QD1, each one doorbell and one MSI-X
# completion (bench/iocount.py; docs/bench.md "Per-I/O counters").
# Counts, not assertions (tests/integration/payload_iocount.sh asserts).
: "${BUILD:=build}"
[ -c /dev/kvm ] && [ -x "$BUILD/vfu-blk" ] || { echo "bench_iocount: skipped"; exit 0; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
rc=0
for d in virtio fd message; do
    python3 bench/iocount.py --build "$BUILD" --json "$dir/$d.json" "$d" \
        >"$dir/$d.out" 2>&1 || { cat "$dir/$d.out"; rc=1; }
done
python3 - "$dir" <<'PY' || rc=1
import json, os, sys
cols = [("virtio", "in-VMM virtio-blk"), ("fd", "vfu-blk dma=fd"),
        ("message", "vfu-blk dma=message")]
r = {}
for k, _ in cols:
    p = os.path.join(sys.argv[1], k + ".json")
    r[k] = json.load(open(p)) if os.path.exists(p) else None
print("per 1000 guest I/Os (4 KiB read, QD1, MSI-X completion)")
print(f"{'':16}" + "".join(f"{t:>22}" for _, t in cols))
for key, name in [("vmm_exits", "VMM exits"), ("vmm_wakeups", "VMM wakeups"),
                  ("server_wakeups", "server wakeups"),
                  ("messages", "socket messages"),
                  ("dma_rounds", "DMA round trips"), ("ios", "I/Os counted")]:
    row = f"{name:16}"
    for k, _ in cols:
        v = r[k].get(key) if r[k] else None
        row += f"{'-' if v is None else (str(v) if key == 'ios' else f'{v:.1f}'):>22}"
    print(row)
PY
exit $rc
