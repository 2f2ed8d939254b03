#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# A hot-added device in a live migration (docs/migration.md "Hotplugged
# devices"): the vfio payload's test=hotplug gets vfu-blk (server 1) by
# device-add at slot 1 and uses it; the destination is started with the
# source's current device set from the API's `config` (slot=1 recorded;
# its own vfu-blk, server 2, on the same disk file); after the migration
# the destination's guest releases the device on device-remove and a
# second device-add/remove round runs there.
: "${BUILD:=build}"
name=payload_hotplug_migrate
. "$(dirname "$0")/lib.sh"
need_kvm
need_bins vfu-blk
dir=$(mktemp -d) || exit 1
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
start_srv() { # NAME
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/a.img" \
        >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $1 did not create its socket"
}

truncate -s 1M "$dir/a.img"
start_srv srv1
: >"$dir/out1"
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
    --api-socket "$dir/api1" \
    --cmdline "test=hotplug hp-rounds=2 hp-secs=60" \
    </dev/null >"$dir/out1" 2>"$dir/out1.err" &
src=$!
pids="$pids $src"
wait_lines "$dir/out1" "waiting for a device (round 0)"
ctl "$dir/api1" device-add vfio-user "socket=$dir/srv1.sock,id=hp0" ||
    fail "device-add"
wait_lines "$dir/out1" "io ok on slot 1"
ctl "$dir/api1" config >"$dir/vm.json" || fail "config"
start_srv srv2
# The destination: the source's devices (slots included), its own server.
python3 - "$dir/vm.json" "$dir/dst.json" "$dir/srv1.sock" \
    "$dir/srv2.sock" <<'PY' || fail "python3"
import json, sys
c = json.load(open(sys.argv[1]))
for k in ("kernel", "initrd", "cmdline", "api-socket", "memory", "cpus"):
    c.pop(k, None)
c["vfio-user"] = [v.replace(sys.argv[3], sys.argv[4]) for v in c["vfio-user"]]
json.dump(c, open(sys.argv[2], "w"))
PY
grep -q "slot=1" "$dir/dst.json" || fail "no slot=1 in the device set"
: >"$dir/out2"
"$BUILD/minivmm" --config "$dir/dst.json" --incoming "unix:$dir/mig" \
    --api-socket "$dir/api2" </dev/null >"$dir/out2" 2>"$dir/out2.err" &
dst=$!
pids="$pids $dst"
ctl "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1 ||
    { cat "$dir/mig.out" "$dir/out1" "$dir/out2" "$dir/out1.err" "$dir/out2.err"; fail "migration failed"; }
wait "$src" || fail "the source exited non-zero"
for i in $(seq 100); do [ -S "$dir/api2" ] && break; sleep 0.1; done
ctl "$dir/api2" device-remove hp0 || fail "device-remove on the destination"
wait_lines "$dir/out2" "slot 1 empty"
wait_lines "$dir/out2" "waiting for a device (round 1)"
ctl "$dir/api2" device-add vfio-user "socket=$dir/srv2.sock,id=hp0" ||
    fail "device-add on the destination"
wait_lines "$dir/out2" "io ok on slot 1"
ctl "$dir/api2" device-remove hp0 || fail "device-remove 2"
wait "$dst"; rc=$?
tr -d '\r' <"$dir/out2"
cat "$dir/out2.err"
[ "$rc" -eq 0 ] || fail "destination exited $rc, want 0"
tr -d '\r' <"$dir/out2" | grep -qx "PASS hotplug" || fail "no PASS hotplug"
for s in 0 1; do
    got=$(dd if="$dir/a.img" bs=512 skip=$s count=1 2>/dev/null | head -c 15)
    [ "$got" = "HOTPLUG round $s" ] || fail "sector $s holds '$got'"
done
echo "$name: PASS"
