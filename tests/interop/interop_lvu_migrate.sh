#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 150
# Live migration of a VM with a libvfio-user-based server (our test device
# tests/interop/lvu-mig-server.c on Debian's libvfio-user, spec 0.9.1
# region-based migration), twice:
#   dma=message  the server gets no fds and writes guest RAM with
#                VFIO_USER_DMA_WRITE messages: only the client can mark
#                those pages dirty;
#   dma=fd       the server writes through its mapping (--dma-via=map):
#                libvfio-user's VFIO_USER_DIRTY_PAGES bitmap reports them.
# The guest (tests/guest/lvu test=lvu-mig lvu-dma=arm) fills BAR 0's
# scratch and a 16 KiB RAM buffer (0xee..), then arms the server's pattern
# write. The destination's server is SIGSTOPped, so the source finishes
# RAM pass 1 (the buffer goes out as 0xee..) and cannot leave pre-copy
# (it waits for the destination's VM, whose device set-up waits on that
# server). Then the server writes its pattern into the buffer (--dma-at=
# file:, on the guest's next poll of BAR 0), the destination's server goes
# on, and the migration completes: the pattern must be in the
# destination's RAM (a write not marked dirty is lost), BAR 0 must arrive
# byte for byte (same digest saved and restored; the guest reads every
# scratch byte back through the destination's server), the counter goes
# on from the next tick.
: "${BUILD:=build}"
name=interop_lvu_migrate
. tests/interop/lib_lvu.sh

status() { ctl "$dir/api1" migrate-status 2>/dev/null; }
one() {     # DMA-MODE SERVER-OPTION...
    mode=$1; shift
    rm -f "$dir"/go "$dir"/out* "$dir"/mig* "$dir"/*.sock "$dir"/*.log
    lvu_start srv1 --dma-at=file:"$dir/go" "$@"; srv1=$srv
    "$BUILD/minivmm" --kernel "$BUILD/guest/lvu.elf" --memory 256M \
        --vfio-user "socket=$dir/srv1.sock,id=lvu,dma=$mode" \
        --cmdline "test=lvu-mig lvu-dma=arm ticks=30 tick_ms=100 poll_ms=5" \
        --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
    src=$!
    pids="$pids $src"
    wait_for "$dir/out1" "^lvu: tick 3$" 30 ||
        { cat "$dir/out1" "$dir/err1" "$dir/srv1.log"; fail "$mode: the guest does not count"; }
    lvu_start srv2; srv2=$srv
    kill -STOP "$srv2"
    "$BUILD/minivmm" --incoming "unix:$dir/mig" \
        --vfio-user "socket=$dir/srv2.sock,id=lvu,dma=$mode,timeout=60000" \
        --serial "file:$dir/out2" 2>"$dir/err2" &
    dst=$!
    pids="$pids $dst"
    ctl "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1 &
    mig=$!
    # RAM pass 1 done: the buffer went out before the server writes it.
    i=0
    until status | grep -q "^iterations: [1-9]"; do
        i=$((i + 1))
        [ "$i" -gt 400 ] && { kill -CONT "$srv2"; cat "$dir/mig.out" "$dir/err1";
                              fail "$mode: no pre-copy pass"; }
        sleep 0.05
    done
    status | grep -qx "state: precopy" ||
        { kill -CONT "$srv2"; fail "$mode: not in pre-copy: $(status)"; }
    touch "$dir/go"
    wait_for "$dir/srv1.log" "dma-write 16384 bytes at 0x4000000 .*(file)" 10 ||
        { kill -CONT "$srv2"; cat "$dir/srv1.log"; fail "$mode: the server did not write its pattern"; }
    status | grep -qx "state: precopy" ||
        { kill -CONT "$srv2"; fail "$mode: the pattern write was not in pre-copy: $(status)"; }
    kill -CONT "$srv2"
    wait "$mig" ||
        { cat "$dir/mig.out" "$dir/err1" "$dir/err2" "$dir/srv1.log" "$dir/srv2.log";
          fail "$mode: migration failed"; }
    wait "$src" || fail "$mode: the source exited non-zero"
    wait "$dst"
    rc=$?
    tr -d '\r' <"$dir/out2" | tail -n 3
    [ "$rc" -eq 0 ] || { cat "$dir/err2" "$dir/srv2.log"; fail "$mode: destination exited $rc"; }
    last=$(ticks "$dir/out1" | tail -n 1)
    first=$(ticks "$dir/out2" | head -n 1)
    # The source may stop in the middle of a tick line, finished at the
    # destination: then neither file holds that tick whole.
    [ "$first" = $((last + 1)) ] ||
        { [ "$first" = $((last + 2)) ] &&
          [ -n "$(tail -c 1 "$dir/out1" | tr -d '\n')" ]; } ||
        fail "$mode: destination starts at tick '$first', want $((last + 1))"
    tr -d '\r' <"$dir/out2" | grep -qx "PASS lvu-mig" ||
        fail "$mode: no 'PASS lvu-mig' on the destination"
    tr -d '\r' <"$dir/out2" |
        grep -q "^lvu-mig: bar0 ok (4060 bytes), 1 dma writes, pattern ok" ||
        fail "$mode: the guest's check line is missing"
    fnv1=$(saved_fnv "$dir/srv1.log"); fnv2=$(restored_fnv "$dir/srv2.log")
    [ -n "$fnv1" ] && [ "$fnv1" = "$fnv2" ] ||
        fail "$mode: BAR 0 digest saved '$fnv1', restored '$fnv2'"
    echo "$name: dma=$mode: $(sed -n 's/.*\(dma-write .*\)/\1/p' "$dir/srv1.log")" \
         "in pre-copy; the pattern and BAR 0 (fnv $fnv1) arrived;" \
         "ticks 1-$last, then $first-30; $(grep '^downtime' "$dir/mig.out")"
}

one message
one fd --dma-via=map
