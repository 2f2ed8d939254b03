#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# A snapshot whose file was written but whose resume failed (issue 9 item
# 7): the vfio-user server (tools/vfu-evil --mode=refuse-running) supports
# migration but refuses every transition back to RUNNING. The snapshot
# command must fail, and its reply and the log must say that the file was
# written completely and is restorable, that resuming the VM failed at
# that device, and that the VM is paused (status agrees). The file is
# then restored in a new process with a well-behaved server
# (--mode=mig): the guest goes on counting from where it was saved.
: "${BUILD:=build}"
name=payload_snapshot_resume_fail
for b in vfu-evil minivmm-ctl; do
    [ -x "$BUILD/$b" ] || { echo "$name: no $BUILD/$b" >&2; exit 77; }
done
. "$(dirname "$0")/lib_migrate.sh"
start_evil() {  # NAME MODE
    "$BUILD/vfu-evil" --socket-path="$dir/$1.sock" --mode="$2" \
        >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-evil $1 did not create its socket"
}

start_evil e1 refuse-running
"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 128M \
    --vfio-user "socket=$dir/e1.sock,id=evil" \
    --cmdline "test=counter ticks=600 tick_ms=100" \
    --serial "file:$dir/out1" --api-socket "$dir/api" 2>"$dir/err1" &
vm=$!
pids="$pids $vm"
wait_for "$dir/out1" "^counter: tick 2 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
ctl "$dir/api" snapshot "$dir/vm.snap" >"$dir/snap.out" 2>&1 &&
    fail "the snapshot succeeded although the device could not resume"
reply=$(cat "$dir/snap.out")
for want in "the file was written completely" \
            "can be restored with --restore" \
            "resuming the VM afterwards failed: resuming device vfio-user@evil" \
            "the VM is paused"; do
    echo "$reply" | grep -qF "$want" ||
        fail "the reply does not say '$want': $reply"
    grep -qF "$want" "$dir/err1" ||
        fail "the log does not say '$want': $(cat "$dir/err1")"
done
ctl "$dir/api" status | grep -qx "state: paused" ||
    fail "status is not paused: $(ctl "$dir/api" status)"
[ -s "$dir/vm.snap" ] || fail "no snapshot file"
last=$(ticks "$dir/out1" | tail -n 1)
echo "$name: reply: $reply"
ctl "$dir/api" quit >/dev/null 2>&1
wait "$vm"

# The file is complete: restored with a server that accepts RUNNING.
start_evil e2 mig
"$BUILD/minivmm" --restore "$dir/vm.snap" \
    --vfio-user "socket=$dir/e2.sock,id=evil" \
    --serial "file:$dir/out2" --api-socket "$dir/api2" 2>"$dir/err2" &
pids="$pids $!"
wait_for "$dir/out2" "^counter: tick $((last + 2)) " 30 ||
    { cat "$dir/out2" "$dir/err2"; fail "the restored guest does not count"; }
first=$(ticks "$dir/out2" | head -n 1)
next_tick "$dir/out1" "$last" "$first" ||
    fail "the restored guest starts at tick '$first', want $((last + 1))"
ctl "$dir/api2" quit >/dev/null 2>&1
echo "$name: saved after tick $last, restored from tick $first"
