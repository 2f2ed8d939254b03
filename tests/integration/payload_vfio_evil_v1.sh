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
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_vfio.sh"
need_kvm
need_bins vfu-evil minivmm-ctl
make_dir
vm() {          # MODE: a counting VM with the evil device, api at $dir/api
    start_evil src "$1"
    evil_vm "$1" "$dir/src.sock"
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
start_evil dst none
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
