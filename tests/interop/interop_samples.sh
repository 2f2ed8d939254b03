#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# libvfio-user's sample servers (server, gpio-pci-idio-16, null; Debian's
# qemu 7.2 source) attached to minivmm at once and driven by the interop
# payload: IDs, class, BAR kinds and sizes as the samples define them, BAR
# reads and writes through the servers (tests/guest/interop/test_samples.c
# says what each sample does), and the servers' own logs showing the
# accesses arrived as REGION_READ/WRITE messages.
NAME=interop_samples
. tests/interop/lib_interop.sh

spawn srv "$SAMPLES/server" -v "$dir/server.sock" >"$dir/server.log" 2>&1
spawn gpio "$SAMPLES/gpio-pci-idio-16" -v "$dir/gpio.sock" >"$dir/gpio.log" 2>&1
# null exits when its stdin ends: keep a pipe open to it.
# (opened read-write first: opening a FIFO that way never blocks).
mkfifo "$dir/null.in"
exec 8<>"$dir/null.in"
# (not through spawn: an asynchronous command's own redirection is needed,
# or the shell gives it /dev/null).
"$SAMPLES/null" "$dir/null.sock" <"$dir/null.in" >"$dir/null.log" 2>&1 &
PIDS="$PIDS $!"
for s in server gpio null; do wait_sock "$dir/$s.sock"; done

"$BUILD/minivmm" --kernel "$BUILD/guest/interop.elf" --memory 256M \
    --vfio-user "socket=$dir/server.sock,id=server" \
    --vfio-user "socket=$dir/gpio.sock,id=gpio" \
    --vfio-user "socket=$dir/null.sock,id=null" \
    --cmdline "test=server,gpio,null" </dev/null >"$dir/vm.out" 2>&1
rc=$?
tr -d '\r' <"$dir/vm.out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
for t in server gpio null; do
    tr -d '\r' <"$dir/vm.out" | grep -qx "PASS $t" || fail "no 'PASS $t'"
done
# The servers saw the accesses (their debug logs name each REGION access).
grep -q "region1: wrote 0x55667788 to (0x1004:4)" "$dir/server.log" ||
    fail "server sample: no BAR1 write at 0x1004 in its log"
grep -q "region0: read from (0:4) failed" "$dir/server.log" ||
    fail "server sample: the 4-byte BAR0 read did not reach it"
grep -q "vfio-user server: read of 4 bytes at BAR 0 offset 0 failed" \
    "$dir/vm.out" || fail "minivmm did not log the server's refused BAR0 read"
n=$(grep -c "region2: read .* from (0:1)" "$dir/gpio.log")
[ "$n" -eq 10 ] || fail "gpio sample: $n BAR2[0] reads in its log, want 10"
grep -q "device failed" "$dir/vm.out" && fail "a device failed (see above)"
echo "$NAME: server, gpio-pci-idio-16 and null enumerated and driven"
exit 0
