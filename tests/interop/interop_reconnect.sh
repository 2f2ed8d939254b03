#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# reconnect= with a restarted third-party server: libvfio-user's
# gpio-pci-idio-16 sample is killed (-9) while the guest reads its BAR2;
# once the guest has seen the device dead, a new sample process is started
# on the same socket, minivmm reconnects (reconnect=1) and replays the
# device setup, and the guest reads the new server's counter from its start
# (0,0,0,1,1,1): the reads reach the new process. Then the same with
# lvu-test-server, whose memslots and ioeventfds must follow the new process.
NAME=interop_reconnect
. tests/interop/lib_interop.sh

spawn gpio "$SAMPLES/gpio-pci-idio-16" "$dir/gpio.sock" >"$dir/gpio.log" 2>&1
wait_sock "$dir/gpio.sock"
spawn vm "$BUILD/minivmm" --kernel "$BUILD/guest/interop.elf" --memory 256M \
    --vfio-user "socket=$dir/gpio.sock,id=gpio,reconnect=1,timeout=2000" \
    --cmdline "test=reconnect secs=40" </dev/null >"$dir/vm.out" 2>"$dir/vm.err"
wait_line "$dir/vm.out" "^reconnect: gpio alive" 30
kill -KILL "$gpio"; wait "$gpio" 2>/dev/null
wait_line "$dir/vm.out" "^reconnect: gpio dead" 30
rm -f "$dir/gpio.sock"
spawn gpio "$SAMPLES/gpio-pci-idio-16" "$dir/gpio.sock" >>"$dir/gpio.log" 2>&1
wait "$vm"; rc=$?
tr -d '\r' <"$dir/vm.out"; cat "$dir/vm.err"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$dir/vm.out" | grep -qx "PASS reconnect" || fail "no 'PASS reconnect'"
grep -q "vfio-user gpio: reconnected to" "$dir/vm.err" || fail "no reconnect reported"

# The same with lvu-test-server: the new process's BAR0 memfd must back the
# memslots (the guest's writes show in its SUM0) and its ioeventfds must be
# registered (doorbells counted with no message).
need_lvu
spawn srv "$LVU" "$dir/lvu.sock" >"$dir/lvu.log" 2>&1
wait_sock "$dir/lvu.sock"
spawn vm "$BUILD/minivmm" --kernel "$BUILD/guest/interop.elf" --memory 256M \
    --vfio-user "socket=$dir/lvu.sock,id=lvu,reconnect=1,timeout=2000" \
    --cmdline "test=lvu-reconnect secs=40" </dev/null >"$dir/vm2.out" 2>"$dir/vm2.err"
wait_line "$dir/vm2.out" "^lvu-reconnect: alive" 30
kill -KILL "$srv"; wait "$srv" 2>/dev/null
wait_line "$dir/vm2.out" "^lvu-reconnect: dead" 30
rm -f "$dir/lvu.sock"
spawn srv "$LVU" "$dir/lvu.sock" >"$dir/lvu2.log" 2>&1
wait "$vm"; rc=$?
tr -d '\r' <"$dir/vm2.out"; cat "$dir/vm2.err"
[ "$rc" -eq 0 ] || fail "lvu: minivmm exited $rc, want 0"
tr -d '\r' <"$dir/vm2.out" | grep -qx "PASS lvu-reconnect" ||
    fail "no 'PASS lvu-reconnect'"
stop "$srv"
line=$(grep "counters" "$dir/lvu2.log" | tail -n 1)
for want in mmap_traps=0 doorbells=100 dm_doorbells=50; do
    echo " $line " | grep -q " $want " || fail "new server's counters: want $want: $line"
done
echo "$NAME: gpio sample and lvu-test-server restarted; minivmm reconnected, the guest uses the new servers"
exit 0
