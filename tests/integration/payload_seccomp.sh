#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# seccomp (docs/security.md, "seccomp"): with the test-only binaries
# (tests/seccomp/probe.c), a thread of each kind (main event loop, vCPU,
# migration, vfu-blk) that makes a syscall outside its allow-list kills the
# process with SIGSYS under --seccomp=on (the default), is only logged under
# --seccomp=log, and is not filtered under --seccomp=off; a running
# minivmm has a filter on every thread. (The rest of make check runs with
# the default, on.)
: "${BUILD:=build}"
name=payload_seccomp
. tests/integration/lib_migrate.sh
for b in minivmm-sctest vfu-blk-sctest; do
    [ -x "$BUILD/$b" ] || fail "no $BUILD/$b (make $BUILD/$b)"
done
SIGSYS_RC=$((128 + 31))
payload="$BUILD/guest/payload.elf"

# probe KIND MODE: boot the counter payload with the probe armed for KIND.
probe() {
    MINIVMM_SECCOMP_PROBE=$1 timeout 60 "$BUILD/minivmm-sctest" \
        --seccomp="$2" --kernel "$payload" --cpus 2 --memory 64M \
        --cmdline "test=counter ticks=2 tick_ms=10" \
        --serial "file:$dir/$1-$2.out" >/dev/null 2>"$dir/$1-$2.err"
}
# killed KIND RC: the probe ran, did not survive, and RC is SIGSYS.
killed() {
    grep -q "seccomp-probe: $1: calling reboot" "$dir/$1-on.err" ||
        fail "$1: the probe did not run: $(cat "$dir/$1-on.err")"
    ! grep -q "survived" "$dir/$1-on.err" ||
        fail "$1: reboot(2) was allowed under --seccomp=on"
    [ "$2" -eq "$SIGSYS_RC" ] || fail "$1: exit $2, want $SIGSYS_RC (SIGSYS)"
}

for k in main vcpu; do
    probe "$k" on; killed "$k" $?
    probe "$k" log; rc=$?
    [ "$rc" -eq 0 ] || fail "$k: --seccomp=log exited $rc: $(cat "$dir/$k-log.err")"
    grep -q "seccomp-probe: $k: survived" "$dir/$k-log.err" ||
        fail "$k: --seccomp=log did not let the call through"
    probe "$k" off; rc=$?
    [ "$rc" -eq 0 ] || fail "$k: --seccomp=off exited $rc"
    ! grep -q "seccomp-probe" "$dir/$k-off.err" ||
        fail "$k: --seccomp=off installed a filter"
    echo "$name: $k: killed by SIGSYS (on), logged (log), unfiltered (off)"
done

# The migration thread: its filter goes in before it connects anywhere.
MINIVMM_SECCOMP_PROBE=migration "$BUILD/minivmm-sctest" --seccomp=on \
    --kernel "$payload" \
    --memory 64M --cmdline "test=counter ticks=600 tick_ms=100" \
    --serial "file:$dir/mig.out" --api-socket "$dir/api" \
    2>"$dir/migration-on.err" &
pid=$!; pids="$pid"
wait_for "$dir/mig.out" "^counter: tick 1 " 30 || fail "the guest does not count"
# Every thread of a running minivmm is filtered (Seccomp: 2 = filter mode).
for s in /proc/$pid/task/*/status; do
    grep -q "^Seccomp:[[:space:]]*2" "$s" ||
        fail "thread $(sed -n 's/^Name:\t//p' "$s") has no seccomp filter"
done
ctl "$dir/api" migrate "unix:$dir/nobody-listens" >/dev/null 2>&1
wait "$pid"; killed migration $?
echo "$name: migration: killed by SIGSYS; every thread had a filter"

# The on-demand restore threads (uffd-fault, uffd-load): filtered first.
"$BUILD/minivmm" --kernel "$payload" --memory 64M \
    --cmdline "test=counter tick_ms=20" --serial "file:$dir/r.out" \
    --api-socket "$dir/rapi" 2>"$dir/r.err" &
pid=$!; pids="$pid"
wait_for "$dir/r.out" "^counter: tick 1 " 30 || fail "the guest does not count"
ctl "$dir/rapi" snapshot "$dir/r.snap" >/dev/null || fail "snapshot failed"
ctl "$dir/rapi" quit >/dev/null
wait "$pid"
MINIVMM_SECCOMP_PROBE=restore timeout 30 "$BUILD/minivmm-sctest" \
    --seccomp=on --restore "$dir/r.snap" --serial none \
    >/dev/null 2>"$dir/restore-on.err"
killed restore $?
echo "$name: restore: killed by SIGSYS"

# vfu-blk: filtered once its disk and socket are open.
truncate -s 1M "$dir/disk.img"
MINIVMM_SECCOMP_PROBE=vfu-blk timeout 30 "$BUILD/vfu-blk-sctest" \
    --socket-path="$dir/vfu.sock" --disk "$dir/disk.img" \
    >/dev/null 2>"$dir/vfu-blk-on.err"
killed vfu-blk $?
echo "$name: vfu-blk: killed by SIGSYS"
