#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# Serial console modes (issue 12). socket: a guest printing ticks (test=
# counter) is attached to with `minivmm-ctl SOCK console`, detached with
# Ctrl-] while it keeps counting, attached again (later ticks arrive), and
# a second client meanwhile is told "busy"; nobody attached for a while
# must not stall the guest. pty: the printed path opens and gives a line.
: "${BUILD:=build}"
name=payload_serial_console
. tests/integration/lib_migrate.sh

"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 64M \
    --cmdline "test=counter ticks=600 tick_ms=100" \
    --serial "socket:$dir/con" --api-socket "$dir/api" 2>"$dir/err" &
vm=$!
pids="$vm"
i=0
while [ ! -S "$dir/con" ]; do
    i=$((i + 1)); [ "$i" -gt 200 ] && fail "no console socket"; sleep 0.05
done

# attach ATTEMPT: attach, wait for a tick, detach with Ctrl-].
attach() {
    mkfifo "$dir/in$1"
    ctl "$dir/con" console <"$dir/in$1" >"$dir/out$1" 2>"$dir/ctl$1" &
    c=$!
    exec 3>"$dir/in$1"
    wait_for "$dir/out$1" "^counter: tick $2 " 20 ||
        { cat "$dir/err"; fail "attach $1: no tick on the console"; }
    if [ "$1" = 1 ]; then
        ctl "$dir/con" console </dev/null >"$dir/busy" 2>&1
        grep -q "console busy" "$dir/busy" || fail "second client not refused"
    fi
    printf '\035' >&3
    exec 3>&-
    wait "$c" || fail "attach $1: minivmm-ctl console exited $?"
    grep -q detached "$dir/ctl$1" || fail "attach $1: no 'detached'"
}
attach 1 "[0-9]*"
t1=$(ticks "$dir/out1" | tail -n 1)
# Detached: the guest goes on (status still running, ticks advance).
ctl "$dir/api" status | grep -qx "state: running" || fail "not running"
# Attached again, the ticks go on to 5 past the last one seen.
attach 2 $((t1 + 5))
t2=$(ticks "$dir/out2" | tail -n 1)
echo "$name: tick $t1 on the first attach, $t2 on the second"
[ "$t2" -gt "$t1" ] || fail "no progress between attaches ($t1 -> $t2)"
ctl "$dir/api" quit >/dev/null || fail "quit failed"
wait "$vm"
rc=$?
[ "$rc" -eq 0 ] || { cat "$dir/err"; fail "minivmm exited $rc, want 0"; }
[ ! -e "$dir/con" ] || fail "console socket left behind"

# pty: the path is on stderr; open it and read a tick line.
"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 64M \
    --cmdline "test=counter ticks=40 tick_ms=100" --serial pty \
    2>"$dir/perr" &
vm=$!
pids="$pids $vm"
wait_for "$dir/perr" "serial console on /dev/pts/" 20 ||
    { cat "$dir/perr"; fail "no pty path printed"; }
pty=$(sed -n 's/^minivmm: serial console on //p' "$dir/perr")
[ -c "$pty" ] || fail "'$pty' is not a character device"
timeout 20 grep -m 1 -a "counter: tick" "$pty" >"$dir/pout" ||
    fail "no tick line read from $pty"
echo "$name: pty $pty: $(tr -d '\r' <"$dir/pout")"
wait "$vm" || fail "minivmm (pty) exited $?, want 0"
echo "$name: PASS"
