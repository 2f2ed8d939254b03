#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# Our libvfio-user-based tests/interop/lvu-test-server under minivmm:
# BAR0's sparse-mmap areas are KVM memslots (3072 guest accesses there, no
# REGION message: the server's message counter and its mmap_traps counter
# prove it) while its gaps are trapped; two ioeventfd doorbells (one with
# datamatch) reach the server without a message; INTx raised by the server
# arrives in the guest (lvu-intx).
NAME=interop_lvu
. tests/interop/lib_interop.sh
need_lvu

spawn srv "$LVU" -x "$dir/lvu.sock" >"$dir/lvu.log" 2>&1
wait_sock "$dir/lvu.sock"
"$BUILD/minivmm" --kernel "$BUILD/guest/interop.elf" --memory 256M \
    --vfio-user "socket=$dir/lvu.sock,id=lvu" \
    --cmdline "test=lvu,lvu-intx" </dev/null >"$dir/vm.out" 2>&1
rc=$?
tr -d '\r' <"$dir/vm.out"
wait "$srv"
cat "$dir/lvu.log"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
for t in lvu lvu-intx; do
    tr -d '\r' <"$dir/vm.out" | grep -qx "PASS $t" || fail "no 'PASS $t'"
done
line=$(grep "counters.*(disconnected)" "$dir/lvu.log" | tail -n 1)
[ -n "$line" ] || fail "no counters from lvu-test-server"
for want in mmap_traps=0 doorbells=100 dm_doorbells=50 irqs=2; do
    echo " $line " | grep -q " $want " || fail "server counters: want $want: $line"
done
echo "$NAME: sparse mmap without messages, trapped gaps, ioeventfd doorbells, INTx"
exit 0
