#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# --user/--group (docs/security.md, "Dropping root"): started as root,
# minivmm opens /dev/kvm, the serial file and the API socket, then runs as
# nobody:nogroup: every thread's real, effective, saved and filesystem ids
# are nobody's while the guest runs, the API still answers, and the guest
# finishes (exit 0). A user that does not exist is a usage error (2).
: "${BUILD:=build}"
name=payload_user
. tests/integration/lib_migrate.sh
[ "$(id -u)" -eq 0 ] || { echo "$name: needs root" >&2; exit 77; }
uid=$(id -u nobody) || { echo "$name: no user nobody" >&2; exit 77; }
gid=$(getent group nogroup | cut -d: -f3)
[ -n "$gid" ] || { echo "$name: no group nogroup" >&2; exit 77; }

"$BUILD/minivmm" --user nobody --group nogroup --kernel \
    "$BUILD/guest/payload.elf" --cpus 2 --memory 64M \
    --cmdline "test=counter ticks=20 tick_ms=100" \
    --serial "file:$dir/out" --api-socket "$dir/api" 2>"$dir/err" &
pid=$!; pids="$pid"
wait_for "$dir/out" "^counter: tick 2 " 30 ||
    { cat "$dir/err"; fail "the guest does not count"; }
for s in /proc/$pid/task/*/status; do
    grep -qx "Uid:	$uid	$uid	$uid	$uid" "$s" ||
        fail "uids: $(grep Uid: "$s"), want $uid"
    grep -qx "Gid:	$gid	$gid	$gid	$gid" "$s" ||
        fail "gids: $(grep Gid: "$s"), want $gid"
    grep -qx "Groups:	$gid *" "$s" || grep -qx "Groups:	$gid" "$s" ||
        fail "supplementary groups: $(grep Groups: "$s")"
done
ctl "$dir/api" status | grep -qx "state: running" || fail "the API does not answer"
wait "$pid"; rc=$?
[ "$rc" -eq 0 ] || { cat "$dir/err"; fail "minivmm exited $rc, want 0"; }
tr -d '\r' <"$dir/out" | grep -q "^PASS counter" || fail "no PASS counter"
echo "$name: ran as nobody:nogroup (uid $uid, gid $gid), the API answered, the guest passed"

"$BUILD/minivmm" --user no-such-user-xyz --kernel "$BUILD/guest/payload.elf" \
    2>"$dir/err2"
rc=$?
[ "$rc" -eq 2 ] || fail "--user no-such-user-xyz: exit $rc, want 2"
grep -q "no such user" "$dir/err2" || fail "no reason: $(cat "$dir/err2")"
echo "$name: an unknown user is a usage error"
