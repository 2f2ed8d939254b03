#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# `minivmm-ctl API stats` (issue 12) against a payload's known I/O: the
# virtio payload's vblk-count writes 4 KiB blocks and reads each back,
# printing "writes W" each tick. On a virtio disk the stats must then show
# block requests >= 2W, bytes written >= 4096 W, doorbells and interrupts,
# port-I/O exits (the serial output), and grow between two queries. On a
# vfu-blk device with dma=message: vfio-user round trips with a latency
# histogram that accounts for them, DMA messages and bytes; vfu-blk's
# --stats-file JSON shows the same requests and ioeventfd doorbells.
# Every reply validates against docs/stats.schema.json.
: "${BUILD:=build}"
name=payload_stats
. tests/integration/lib_migrate.sh
[ -x "$BUILD/vfu-blk" ] || fail "no $BUILD/vfu-blk"
truncate -s 4M "$dir/d.img" "$dir/v.img"

# start ARGS...: run the vblk-count guest with these devices; wait for
# tick 5.
start() {
    rm -f "$dir/out"
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 128M \
        --cmdline "test=vblk-count ticks=300 tick_ms=100 blocks=16" \
        --serial "file:$dir/out" --api-socket "$dir/api" "$@" \
        2>"$dir/err" &
    vm=$!
    pids="$pids $vm"
    wait_for "$dir/out" "^counter: tick 5 " 30 ||
        { cat "$dir/out" "$dir/err"; fail "the guest does not count"; }
}
writes() { tr -d '\r' <"$dir/out" | sed -n 's/.* writes \([0-9]*\)$/\1/p' |
           tail -n 1; }

# check FILE PYTHON-ASSERTIONS: s is the stats object, w the writes.
check() {
    python3 - "$1" "$2" "$3" <<'EOT'
import json, sys
s, w = json.load(open(sys.argv[1])), int(sys.argv[2])
try:
    import jsonschema
    jsonschema.validate(s, json.load(open("docs/stats.schema.json")))
except ImportError:
    print("payload_stats: python3-jsonschema missing: schema not checked")
d = s["devices"][0]
for cond in sys.argv[3].split(";"):
    if not eval(" ".join(cond.split())):
        sys.exit(f"stats: '{cond.strip()}' is false (writes {w}): "
                 + json.dumps(s))
EOT
}

start --disk "path=$dir/d.img"
w=$(writes)
ctl "$dir/api" stats >"$dir/s1.json" || fail "stats failed"
check "$dir/s1.json" "$w" 'd["kind"] == "virtio-blk"; d["id"] == "disk0";
    d["block"]["requests"] >= 2 * w; d["block"]["bytes_written"] >= 4096 * w;
    d["block"]["errors"] == 0;
    d["doorbells"]["ioeventfd"] + d["doorbells"]["trapped"] > 0;
    d["interrupts"] > 0; s["exits"]["io"] > 0;
    s["exits"]["total"] == sum(v["exits"]["total"] for v in s["vcpus"])' ||
    fail "virtio disk counters"
wait_for "$dir/out" "^counter: tick 8 " 30 || fail "no tick 8"
ctl "$dir/api" stats >"$dir/s2.json" || fail "stats failed"
python3 -c '
import json, sys
a, b = (json.load(open(f))["devices"][0]["block"]["requests"]
        for f in sys.argv[1:])
sys.exit(0 if b > a else f"block requests did not grow: {a} -> {b}")
' "$dir/s1.json" "$dir/s2.json" || fail "counters do not move"
echo "$name: virtio-blk: $w writes seen;" \
     "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"][0]; print("requests", d["block"]["requests"], "doorbells", d["doorbells"], "interrupts", d["interrupts"])' "$dir/s1.json")"
ctl "$dir/api" quit >/dev/null
wait "$vm"

rm -f "$dir/v.sock"
"$BUILD/vfu-blk" --socket-path="$dir/v.sock" --disk "$dir/v.img" \
    --stats-file "$dir/vfu.json" >"$dir/vfu.log" 2>&1 &
srv=$!
pids="$pids $srv"
i=0
while [ ! -S "$dir/v.sock" ]; do
    i=$((i + 1)); [ "$i" -gt 100 ] && fail "no vfu-blk socket"; sleep 0.05
done
[ -s "$dir/vfu.json" ] || fail "vfu-blk wrote no --stats-file at start"
start --vfio-user "socket=$dir/v.sock,dma=message"
w=$(writes)
ctl "$dir/api" stats >"$dir/s3.json" || fail "stats failed"
check "$dir/s3.json" "$w" 'd["kind"] == "vfio-user"; d["id"] == "vfio0";
    d["vfio_user"]["round_trips"] > 0;
    0 < sum(b["count"] for b in d["vfio_user"]["latency"]["histogram"]) <= d["vfio_user"]["round_trips"];
    d["dma"]["messages"] >= 2 * w; d["dma"]["bytes"] >= 2 * 4096 * w' ||
    fail "vfio-user counters"
ctl "$dir/api" quit >/dev/null
wait "$vm"
kill -USR1 "$srv"
# The file follows SIGUSR1 at once; wait for it to show the I/O.
i=0
until python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
sys.exit(0 if c["requests"] >= 2 * int(sys.argv[2]) and
         c["doorbells_ioeventfd"] > 0 and c["dma_messages"] > 0 else 1)
' "$dir/vfu.json" "$w" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -gt 60 ] && { cat "$dir/vfu.json"; fail "vfu-blk --stats-file"; }
    sleep 0.05
done
echo "$name: vfio-user: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"][0]; print("round trips", d["vfio_user"]["round_trips"], "dma", d["dma"])' "$dir/s3.json")"
echo "$name: vfu-blk --stats-file: $(cat "$dir/vfu.json")"
echo "$name: PASS"
