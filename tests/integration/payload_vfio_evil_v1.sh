#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Hostile servers of migration v1 (spec 0.9.1; tools/vfu-evil mig-v1-*):
# a save whose data window lies inside the migration registers, a save
# that never ends (pending_bytes stays, empty chunks), a GET_BITMAP reply
# for another range. Each time the snapshot or the live migration fails
# naming the device, the client refuses the server (one line naming the
# field), and the VM keeps running.
: "${BUILD:=build}"
name=payload_vfio_evil_v1
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
for b in vfu-evil minivmm-ctl; do
    [ -x "$BUILD/$b" ] || { echo "$name: no $BUILD/$b" >&2; exit 77; }
done
dir=$(mktemp -d) || exit 1
pids=
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
ctl() { "$BUILD/minivmm-ctl" "$@"; }
wait_for() {    # FILE REGEX SECONDS
    i=0
    while ! tr -d '\r' 2>/dev/null <"$1" | grep -q "$2"; do
        i=$((i + 1))
        [ "$i" -gt $(($3 * 20)) ] && return 1
        sleep 0.05
    done
}
ticks() { tr -d '\r' <"$1" | sed -n 's/^counter: tick \([0-9]*\) .*/\1/p'; }
evil() {        # NAME MODE
    rm -f "$dir/$1.sock"
    "$BUILD/vfu-evil" --socket-path="$dir/$1.sock" --mode="$2" \
        >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-evil $2 did not create its socket"
}
vm() {          # MODE: a counting VM with the evil device, api at $dir/api
    rm -f "$dir/api"
    evil src "$1"
    "$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 256M \
        --vfio-user "socket=$dir/src.sock,id=evil" \
        --cmdline "test=counter ticks=600 tick_ms=100" \
        --serial "file:$dir/out.$1" --api-socket "$dir/api" \
        2>"$dir/err.$1" &
    vmpid=$!
    pids="$pids $vmpid"
    wait_for "$dir/out.$1" "^counter: tick 2 " 30 ||
        { cat "$dir/out.$1" "$dir/err.$1"; fail "$1: the guest does not count"; }
}
still_runs() {  # MODE
    t=$(ticks "$dir/out.$1" | tail -n 1)
    wait_for "$dir/out.$1" "^counter: tick $((t + 2)) " 10 ||
        fail "$1: the VM stopped"
    ctl "$dir/api" status | grep -qx "state: running" ||
        fail "$1: not running"
    ctl "$dir/api" quit >/dev/null 2>&1
    wait "$vmpid" 2>/dev/null
}

# Snapshots: the save is refused, the device fails, the VM goes on.
for m in mig-v1-window mig-v1-endless; do
    vm "$m"
    ctl "$dir/api" snapshot "$dir/$m.snap" >"$dir/snap.$m" 2>&1 &&
        fail "$m: the snapshot succeeded"
    grep -q "vfio-user@evil" "$dir/snap.$m" ||
        fail "$m: the failure does not name the device: $(cat "$dir/snap.$m")"
    case $m in
    mig-v1-window) want="refusing server: migration region: data window" ;;
    *) want="refusing server: migration region: pending_bytes stays" ;;
    esac
    grep -q "vfio-user evil: $want" "$dir/err.$m" ||
        { cat "$dir/err.$m"; fail "$m: no refusal naming the field"; }
    still_runs "$m"
    echo "$name: $m: $(cat "$dir/snap.$m"); $(grep -o "refusing.*" \
        "$dir/err.$m" | head -n 1)"
done

# Live migration: the first bitmap is for another range.
m=mig-v1-bitmap
vm "$m"
evil dst none
"$BUILD/minivmm" --incoming "unix:$dir/mig" \
    --vfio-user "socket=$dir/dst.sock,id=evil" \
    --serial "file:$dir/out.dst" 2>"$dir/err.dst" &
dst=$!
pids="$pids $dst"
ctl "$dir/api" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1 &&
    fail "$m: the migration succeeded"
grep -q "device vfio-user@evil: .*dirty log" "$dir/mig.out" ||
    { cat "$dir/mig.out"; fail "$m: the failure does not name the device"; }
grep -q "vfio-user evil: refusing server: DIRTY_PAGES GET_BITMAP" \
    "$dir/err.$m" || { cat "$dir/err.$m"; fail "$m: no refusal"; }
still_runs "$m"
kill "$dst" 2>/dev/null; wait "$dst" 2>/dev/null
echo "$name: $m: $(grep '^failure' "$dir/mig.out")"
exit 0
