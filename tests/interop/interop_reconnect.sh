#!/bin/sh
# timeout: 90
# reconnect= with a restarted third-party server: libvfio-user's
# gpio-pci-idio-16 sample is killed (-9) while the guest reads its BAR2;
# once the guest has seen the device dead, a new sample process is started
# on the same socket, minivmm reconnects (reconnect=1) and replays the
# device setup, and the guest reads the new server's counter from its start
# (0,0,0,1,1,1): the reads reach the new process.
NAME=interop_reconnect
. tests/interop/lib_interop.sh

spawn gpio "$SAMPLES/gpio-pci-idio-16" "$dir/gpio.sock" >"$dir/gpio.log" 2>&1
wait_sock "$dir/gpio.sock"
spawn vm "$BUILD/minivmm" --kernel "$BUILD/guest/interop.elf" --memory 256M \
    --vfio-user "socket=$dir/gpio.sock,id=gpio,reconnect=1,timeout=2000" \
    --cmdline "test=reconnect secs=40" </dev/null >"$dir/vm.out" 2>&1
wait_line "$dir/vm.out" "^reconnect: gpio alive" 30
kill -KILL "$gpio"; wait "$gpio" 2>/dev/null
wait_line "$dir/vm.out" "^reconnect: gpio dead" 30
rm -f "$dir/gpio.sock"
spawn gpio "$SAMPLES/gpio-pci-idio-16" "$dir/gpio.sock" >>"$dir/gpio.log" 2>&1
wait "$vm"; rc=$?
tr -d '\r' <"$dir/vm.out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$dir/vm.out" | grep -qx "PASS reconnect" || fail "no 'PASS reconnect'"
grep -q "vfio-user gpio: reconnected to" "$dir/vm.out" || fail "no reconnect reported"
echo "$NAME: gpio sample restarted; minivmm reconnected, the guest uses the new server"
exit 0
