#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# A hot-added device in a snapshot (docs/migration.md "Hotplugged
# devices"): the vfio payload's test=hotplug gets vfu-blk by device-add at
# slot 1 and uses it; the VM is saved; the restored VM is given the
# current device set from the API's `config` (which records slot=1):
# without the device the restore is refused naming it; with it the guest
# goes on: device-remove is answered by the restored guest, and a second
# device-add/remove round runs there. Both rounds' patterns reach the file.
: "${BUILD:=build}"
name=payload_hotplug_restore
. "$(dirname "$0")/lib.sh"
need_kvm
need_bins vfu-blk
dir=$(mktemp -d) || exit 1
srv= vm=
cleanup() {
    for p in $vm $srv; do kill "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT

truncate -s 1M "$dir/a.img"
"$BUILD/vfu-blk" --socket-path="$dir/a.sock" --disk "$dir/a.img" \
    >"$dir/srv.log" 2>&1 &
srv=$!
for i in $(seq 50); do [ -S "$dir/a.sock" ] && break; sleep 0.1; done
: >"$dir/out"
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
    --api-socket "$dir/api" --cmdline "test=hotplug hp-rounds=2 hp-secs=60" \
    </dev/null >"$dir/out" 2>"$dir/out.err" &
vm=$!
wait_lines "$dir/out" "waiting for a device (round 0)"
"$BUILD/minivmm-ctl" "$dir/api" device-add vfio-user \
    "socket=$dir/a.sock,id=hp0" || fail "device-add"
wait_lines "$dir/out" "io ok on slot 1"
"$BUILD/minivmm-ctl" "$dir/api" snapshot "$dir/s.snap" || fail "snapshot"
"$BUILD/minivmm-ctl" "$dir/api" config >"$dir/vm.json" || fail "config"
"$BUILD/minivmm-ctl" "$dir/api" quit >/dev/null
wait "$vm"; vm=
grep -q "socket=$dir/a.sock,id=hp0,slot=1" "$dir/vm.json" ||
    { cat "$dir/vm.json"; fail "config does not record hp0 at slot=1"; }
# The restore takes the device set, not the kernel (docs/migration.md).
python3 - "$dir/vm.json" "$dir/dev.json" "$dir/nodev.json" <<'PY' ||
import json, sys
c = json.load(open(sys.argv[1]))
for k in ("kernel", "initrd", "cmdline", "api-socket", "memory", "cpus"):
    c.pop(k, None)
json.dump(c, open(sys.argv[2], "w"))
c["vfio-user"] = []
json.dump(c, open(sys.argv[3], "w"))
PY
    fail "python3"

# Without the hot-added device: refused, naming it.
"$BUILD/minivmm" --config "$dir/nodev.json" --restore "$dir/s.snap" \
    </dev/null >"$dir/nodev.out" 2>&1
rc=$?
cat "$dir/nodev.out"
[ "$rc" -eq 2 ] || fail "restore without the device exited $rc, want 2"
grep -q "vfio-user@hp0" "$dir/nodev.out" || fail "refusal does not name hp0"

: >"$dir/out2"
"$BUILD/minivmm" --config "$dir/dev.json" --restore "$dir/s.snap" \
    --api-socket "$dir/api2" </dev/null >"$dir/out2" 2>"$dir/out2.err" &
vm=$!
for i in $(seq 100); do [ -S "$dir/api2" ] && break; sleep 0.1; done
"$BUILD/minivmm-ctl" "$dir/api2" device-remove hp0 || fail "device-remove"
wait_lines "$dir/out2" "slot 1 empty"
wait_lines "$dir/out2" "waiting for a device (round 1)"
"$BUILD/minivmm-ctl" "$dir/api2" device-add vfio-user \
    "socket=$dir/a.sock,id=hp0" || fail "device-add after restore"
wait_lines "$dir/out2" "io ok on slot 1"
"$BUILD/minivmm-ctl" "$dir/api2" device-remove hp0 || fail "device-remove 2"
wait "$vm"; rc=$?; vm=
tr -d '\r' <"$dir/out2"
cat "$dir/out2.err"
[ "$rc" -eq 0 ] || fail "restored VM exited $rc, want 0"
tr -d '\r' <"$dir/out2" | grep -qx "PASS hotplug" || fail "no PASS hotplug"
for s in 0 1; do
    got=$(dd if="$dir/a.img" bs=512 skip=$s count=1 2>/dev/null | head -c 15)
    [ "$got" = "HOTPLUG round $s" ] || fail "sector $s holds '$got'"
done
echo "$name: PASS"
