#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# kill -9 of libvfio-user's gpio-pci-idio-16 sample while the guest reads
# its BAR2 in a loop: minivmm reports the device failed and marks it dead
# (reads all-ones), the guest goes on, the other device (lvu-test-server:
# memslots, traps, doorbells) keeps working, and minivmm exits 0 at the end.
NAME=interop_kill
. tests/interop/lib_interop.sh
need_lvu

spawn gpio "$SAMPLES/gpio-pci-idio-16" "$dir/gpio.sock" >"$dir/gpio.log" 2>&1
spawn srv "$LVU" "$dir/lvu.sock" >"$dir/lvu.log" 2>&1
wait_sock "$dir/gpio.sock"
wait_sock "$dir/lvu.sock"
spawn vm "$BUILD/minivmm" --kernel "$BUILD/guest/interop.elf" --memory 256M \
    --vfio-user "socket=$dir/gpio.sock,id=gpio" \
    --vfio-user "socket=$dir/lvu.sock,id=lvu" \
    --cmdline "test=survive secs=30" </dev/null >"$dir/vm.out" 2>"$dir/vm.err"
wait_line "$dir/vm.out" "^survive: gpio alive" 30
kill -KILL "$gpio"
wait "$vm"; rc=$?
tr -d '\r' <"$dir/vm.out"; cat "$dir/vm.err"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$dir/vm.out" | grep -qx "PASS survive" || fail "no 'PASS survive'"
grep -q "vfio-user gpio.*device failed" "$dir/vm.err" ||
    fail "the gpio device's failure was not reported"
grep -q "vfio-user lvu.*failed" "$dir/vm.err" && fail "the lvu device failed too"
kill -0 "$srv" 2>/dev/null || fail "lvu-test-server died"
echo "$NAME: gpio sample killed mid-run; VM and the other device lived"
exit 0
