#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# The test-exit port: "test=exit:N" makes minivmm exit with status N;
# failing and unknown tests give 1; an exception gives 0x10 + vector; the
# minimal PVH payload exits 0.
: "${BUILD:=build}"
fail() { echo "payload_exit: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_exit: no usable /dev/kvm" >&2; exit 77; }
run() { # expected-status cmdline
    "$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 64M \
        --serial none --cmdline "$2"
    rc=$?
    [ "$rc" -eq "$1" ] ||
        fail "'$2' exited $rc, want $1"
}
run 7 "test=exit:7"
run 200 "test=exit:200"
run 0 "test=exit:0"
run 1 "test=nosuchtest"
run 30 "test=fault"             # #PF: 0x10 + 14
"$BUILD/minivmm" --kernel "$BUILD/guest/minimal.elf" --memory 64M
rc=$?
[ "$rc" -eq 0 ] || fail "minimal.elf exited $rc, want 0"
