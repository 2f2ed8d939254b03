#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# Snapshot and restore of a guest counting in RAM (tests/guest test=counter)
# on 2 vCPUs: pause and resume through minivmm-ctl, snapshot, kill -9, then
# --restore in a new process: the counter goes on from the next tick (no
# reboot) and the guest finishes its run with status 0.
: "${BUILD:=build}"
name=payload_snapshot
. "$(dirname "$0")/lib.sh"
need_kvm
[ -x "$BUILD/minivmm-ctl" ] || fail "no $BUILD/minivmm-ctl"
dir=$(mktemp -d) || exit 1
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
last_tick() { ticks "$1" | tail -n 1; }

"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --cpus 2 \
    --memory 256M --cmdline "test=counter ticks=30 tick_ms=100" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
pid=$!
wait_for "$dir/out1" "^counter: tick 3 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
ctl "$dir/api1" status >"$dir/status" || fail "status failed"
grep -qx "state: running" "$dir/status" || fail "status: $(cat "$dir/status")"
grep -qx "cpus: 2" "$dir/status" || fail "status: $(cat "$dir/status")"

# Pause: the counter stops; resume: it goes on.
ctl "$dir/api1" pause >/dev/null || fail "pause failed"
ctl "$dir/api1" status | grep -qx "state: paused" || fail "not paused"
t1=$(last_tick "$dir/out1")
sleep 0.4
[ "$(last_tick "$dir/out1")" = "$t1" ] || fail "counting while paused"
ctl "$dir/api1" resume >/dev/null || fail "resume failed"
wait_for "$dir/out1" "^counter: tick $((t1 + 2)) " 10 ||
    fail "no progress after resume"

# Snapshot while paused (so the last printed tick is the saved one).
ctl "$dir/api1" pause >/dev/null || fail "second pause failed"
saved=$(last_tick "$dir/out1")
ctl "$dir/api1" snapshot "$dir/vm.snap" >"$dir/snapout" ||
    fail "snapshot failed: $(cat "$dir/snapout")"
[ -s "$dir/vm.snap" ] || fail "no snapshot file"
ctl "$dir/api1" migrate unix:/nowhere >"$dir/mig" 2>&1 &&
    fail "migrate to nowhere should fail"
grep -q "nowhere" "$dir/mig" || fail "migrate: $(cat "$dir/mig")"
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=

"$BUILD/minivmm" --restore "$dir/vm.snap" --serial "file:$dir/out2" \
    --api-socket "$dir/api2" 2>"$dir/err2"
rc=$?
tr -d '\r' <"$dir/out2"
cat "$dir/err2" >&2
[ "$rc" -eq 0 ] || fail "restored minivmm exited $rc, want 0"
resumes "$dir/out2" "$saved"
tr -d '\r' <"$dir/out2" | grep -q "^payload: cmdline" &&
    fail "the restored guest booted again"
tr -d '\r' <"$dir/out2" | grep -qx "counter: done" || fail "no 'counter: done'"
tr -d '\r' <"$dir/out2" | grep -qx "PASS counter" || fail "no 'PASS counter'"
echo "$name: saved at tick $saved, restored from tick $first"
