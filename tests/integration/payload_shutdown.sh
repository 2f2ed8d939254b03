#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# Graceful stop (--shutdown-timeout, the API's powerdown): the vfio
# payload's test=powerbtn waits for the ACPI power-button event (the GED
# register the DSDT's _EVT reads) and powers off through S5. Checks:
# SIGTERM presses the button and minivmm exits 0 once the guest powered
# off; so does `minivmm-ctl powerdown`; a guest that ignores the button is
# stopped after the timeout (exit 143); a second SIGTERM stops at once;
# without --shutdown-timeout SIGTERM stops at once as before.
: "${BUILD:=build}"
name=payload_shutdown
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
vm=
cleanup() { [ -n "$vm" ] && kill -KILL "$vm" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

start() { # tag guest-test minivmm-options...
    tag=$1 t=$2; shift 2
    : >"$dir/$tag.out"
    "$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 64M "$@" \
        --cmdline "test=$t hp-secs=60" </dev/null >"$dir/$tag.out" 2>&1 &
    vm=$!
    i=0
    until tr -d '\r' <"$dir/$tag.out" | grep -q "waiting"; do
        i=$((i + 1)); [ "$i" -le 300 ] || fail "$tag: guest not waiting"
        sleep 0.1
    done
}
finish() { # tag want-rc
    wait "$vm"; rc=$?; vm=
    tr -d '\r' <"$dir/$1.out" | sed "s/^/$1: /"
    [ "$rc" -eq "$2" ] || fail "$1: minivmm exited $rc, want $2"
}

start term powerbtn --shutdown-timeout 30
kill -TERM "$vm"
finish term 0
grep -q "powerbtn: pressed" "$dir/term.out" || fail "term: button not seen"

start api powerbtn --shutdown-timeout 30 --api-socket "$dir/api"
"$BUILD/minivmm-ctl" "$dir/api" powerdown || fail "api: powerdown refused"
finish api 0
grep -q "powerbtn: pressed" "$dir/api.out" || fail "api: button not seen"

start ignored hotplug --shutdown-timeout 1
kill -TERM "$vm"
finish ignored 143
grep -q "did not power off within 1 s" "$dir/ignored.out" ||
    fail "ignored: no timeout message"

start twice hotplug --shutdown-timeout 60
kill -TERM "$vm"
i=0
until grep -q "pressed the ACPI power button" "$dir/twice.out"; do
    i=$((i + 1)); [ "$i" -le 100 ] || fail "twice: button not pressed"
    sleep 0.1
done
kill -TERM "$vm"
finish twice 143
grep -q "Terminated: stopping the VM" "$dir/twice.out" ||
    fail "twice: the second signal did not stop it"

start plain hotplug
kill -TERM "$vm"
finish plain 143
grep -q "power button" "$dir/plain.out" && fail "plain: button pressed"
echo "$name: PASS"
