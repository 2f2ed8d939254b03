#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# PCI hotplug (docs/api.md "Hotplug"): the vfio payload's test=hotplug
# (tests/guest/vfio/test_hotplug.c) waits for devices the host adds with
# device-add, does I/O, releases them when device-remove asks (B0EJ, as
# the DSDT's _EJ0 does). Checks, on a VM with a cold-plugged disk at slot
# 1: device-add of a vfio-user server whose DMA capabilities do not fit
# (vfu-evil --mode=dma-pgsize) is refused and the VM is unchanged;
# device-remove of the cold disk, which the guest does not release, times
# out with a device-remove-failed event and the disk stays; vfu-blk is
# added at slot 2, used, removed (vfu-blk sees the client leave), added
# again at slot 2, removed; then an in-VMM disk at slot 2 likewise; the
# guest's patterns land in the host files; the events say so.
: "${BUILD:=build}"
name=payload_hotplug
. "$(dirname "$0")/lib.sh"
need_kvm
need_bins vfu-blk vfu-evil minivmm-ctl
dir=$(mktemp -d) || exit 1
srv= evil= vm= ev=
cleanup() {
    for p in $vm $srv $evil $ev; do kill "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
ctl() { "$BUILD/minivmm-ctl" "$dir/api" "$@"; }
# Wait up to 60 s for $2 (default 1) lines matching $1 in the guest
# output.
wait_out() { wait_lines "$dir/out" "$1" "${2:-1}" "$dir/err"; }
wait_event() { # pattern [count]
    i=0
    until [ "$(grep -c -- "$1" "$dir/events")" -ge "${2:-1}" ]; do
        i=$((i + 1))
        [ "$i" -le 300 ] || { cat "$dir/events" >&2; fail "no event '$1'"; }
        sleep 0.1
    done
}

truncate -s 1M "$dir/a.img" "$dir/cold.img" "$dir/hot.img"
: >"$dir/out"
"$BUILD/vfu-blk" --socket-path="$dir/a.sock" --disk "$dir/a.img" \
    >"$dir/srv.log" 2>&1 &
srv=$!
"$BUILD/vfu-evil" --socket-path="$dir/evil.sock" --mode=dma-pgsize \
    >"$dir/evil.log" 2>&1 &
evil=$!
for i in $(seq 50); do
    [ -S "$dir/a.sock" ] && [ -S "$dir/evil.sock" ] && break; sleep 0.1
done
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
    --disk path="$dir/cold.img",id=cold --api-socket "$dir/api" \
    --cmdline "test=hotplug hp-rounds=3 hp-secs=60" \
    </dev/null >"$dir/out" 2>"$dir/err" &
vm=$!
wait_out "hotplug: waiting for a device (round 0)"
# --json goes first: an option of minivmm-ctl, not of the command.
"$BUILD/minivmm-ctl" --json "$dir/api" events >"$dir/events" 2>&1 &
ev=$!
for i in $(seq 50); do
    ls -l "/proc/$ev/fd" 2>/dev/null | grep -q socket && break; sleep 0.1
done

# Refused: the server offers no 4 KiB DMA pages. Nothing changes.
if ctl device-add vfio-user socket="$dir/evil.sock",id=bad \
        >"$dir/bad.out" 2>&1; then
    fail "device-add of a server that does not fit succeeded"
fi
cat "$dir/bad.out"
grep -q "vfio-user bad" "$dir/bad.out" || fail "refusal does not name bad"
ctl config >"$dir/cfg0" || fail "config"
grep -q '"socket=' "$dir/cfg0" && fail "the refused device is in config"
grep -q "path=$dir/cold.img,id=cold,slot=1" "$dir/cfg0" ||
    { cat "$dir/cfg0"; fail "config lacks the cold disk at slot=1"; }
[ "$(ctl status | sed -n 's/^state: //p')" = running ] ||
    fail "VM not running after the refusal"

# Not released by the guest: times out, the disk stays.
ctl device-remove cold 300 || fail "device-remove cold"
wait_event '"device-remove-failed"'
grep '"device-remove-failed"' "$dir/events" | grep -q '"id":"cold"' ||
    fail "the timeout event does not name cold"
ctl config | grep -q "id=cold" || fail "cold disk gone after the timeout"

# vfu-blk twice at the same slot, then an in-VMM disk.
round() { # n type args
    out=$(ctl device-add "$2" "$3") || fail "device-add $3: $out"
    [ "$out" = "slot: 2" ] || fail "round $1: device-add said '$out'"
    wait_out "hotplug: io ok on slot 2" $(($1 + 1))
    id=$(echo "$3" | sed 's/.*id=\([^,]*\).*/\1/')
    ctl device-remove "$id" >/dev/null || fail "device-remove $id"
    wait_event '"device-removed"' $(($1 + 1))
}
round 0 vfio-user "socket=$dir/a.sock,id=hp0"
wait_out "waiting for a device (round 1)"
round 1 vfio-user "socket=$dir/a.sock,id=hp0"
wait_out "waiting for a device (round 2)"
round 2 disk "path=$dir/hot.img,id=hd"
wait "$vm"; rc=$?; vm=
tr -d '\r' <"$dir/out"
[ "$rc" -eq 0 ] || { cat "$dir/err"; fail "minivmm exited $rc, want 0"; }
tr -d '\r' <"$dir/out" | grep -qx "PASS hotplug" || fail "no PASS hotplug"
for f in "a.img 0" "a.img 1" "hot.img 2"; do
    set -- $f
    got=$(dd if="$dir/$1" bs=512 skip="$2" count=1 2>/dev/null | head -c 15)
    [ "$got" = "HOTPLUG round $2" ] || fail "$1 sector $2 holds '$got'"
done
# vfu-blk served two clients: the first one left (socket closed).
kill -USR1 "$srv"
for i in $(seq 50); do grep -q "connections=" "$dir/srv.log" && break; sleep 0.1; done
conns=$(tr ' ' '\n' <"$dir/srv.log" | sed -n 's/^connections=//p' | tail -1)
[ "$conns" = 2 ] || { cat "$dir/srv.log"; fail "vfu-blk saw $conns connections, want 2"; }
sleep 0.2
kill "$ev" 2>/dev/null; ev=
cat "$dir/events"
[ "$(grep -c '"device-added"' "$dir/events")" -eq 3 ] ||
    fail "want 3 device-added events"
[ "$(grep -c '"device-removed"' "$dir/events")" -eq 3 ] ||
    fail "want 3 device-removed events"
echo "$name: PASS"
