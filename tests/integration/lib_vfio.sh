# SPDX-License-Identifier: BSD-3-Clause
# vfio-user servers for the integration tests, sourced after lib.sh and
# make_dir:
#   $VFU_ARGS               options for every vfu-blk of start_srv
#   $vfu_v1                 1 when they hold --migration=v1 (spec 0.9.1
#                           migration), else empty
#   start_blk NAME [OPTS]   tools/vfu-blk on $dir/NAME.sock over
#                           $dir/disk.img with OPTS, output in
#                           $dir/NAME.log; its pid in $srv (and $pids)
#   start_srv NAME [OPTS]   start_blk with $VFU_ARGS first
#   stop_srv PID            SIGTERM and reap
#   start_evil NAME MODE    tools/vfu-evil --mode=MODE on $dir/NAME.sock,
#                           output in $dir/NAME.log
#   evil_vm MODE SOCK       a guest counting 600 ticks of 100 ms with the
#                           server on SOCK as device "evil"; serial in
#                           $dir/out.MODE, stderr in $dir/err.MODE, API
#                           socket $dir/api, pid in $vmpid
#   migrate_blk WHO OPTS [ARGS]  a destination (--incoming unix:$dir/mig
#                           with minivmm ARGS) whose device blk (vfio-user
#                           option OPTS appended, e.g. ",dma=message") is on
#                           a new vfu-blk srv2 ($srv2), serial in
#                           $dir/out2, stderr in $dir/err2, pid in $dst;
#                           the source ($src, API $dir/api1) migrates to it
#                           ($dir/mig.out) and must exit 0; the
#                           destination's exit status in $rc. Failures
#                           name WHO first, when given
#   snapshot_blk            pause the guest ($vm, API $dir/api1, serial
#                           $dir/out1), $saved its last tick, snapshot it
#                           into $dir/vm.snap, kill it and stop $srv1
#   restore_blk [ARGS]      minivmm --restore $dir/vm.snap (with ARGS)
#                           with device blk on a new vfu-blk srv2, serial
#                           in $dir/out2, stderr in $dir/err2; fail unless
#                           it exits 0
#   vblk_written OUT N [ERR]  the vblk-count guest's output OUT has its
#                           PASS line (else fail, after ERR) and at least N
#                           writes ($writes); block k of $dir/disk.img
#                           holds the last write w with w % N == k
#   still_runs MODE [SECS]  its counter goes on (2 ticks within SECS,
#                           default 10) and the API says running; then
#                           quit through the API
vfu_v1=
case " ${VFU_ARGS:-} " in *" --migration=v1 "*) vfu_v1=1 ;; esac
start_blk() {   # NAME [vfu-blk options]
    n=$1; shift
    "$BUILD/vfu-blk" --socket-path="$dir/$n.sock" --disk "$dir/disk.img" \
        "$@" >"$dir/$n.log" 2>&1 &
    srv=$!
    pids="$pids $srv"
    for i in $(seq 50); do [ -S "$dir/$n.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk $n did not create its socket: $(cat "$dir/$n.log")"
}
start_srv() {   # NAME [vfu-blk options]
    n=$1; shift
    # shellcheck disable=SC2086
    start_blk "$n" $VFU_ARGS "$@"
}
stop_srv() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
start_evil() {  # NAME MODE
    rm -f "$dir/$1.sock"
    "$BUILD/vfu-evil" --socket-path="$dir/$1.sock" --mode="$2" \
        >"$dir/$1.log" 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-evil $2 did not create its socket"
}
evil_vm() {     # MODE SOCK
    rm -f "$dir/api"
    "$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 256M \
        --vfio-user "socket=$2,id=evil" \
        --cmdline "test=counter ticks=600 tick_ms=100" \
        --serial "file:$dir/out.$1" --api-socket "$dir/api" \
        2>"$dir/err.$1" &
    vmpid=$!
    pids="$pids $vmpid"
    wait_for "$dir/out.$1" "^counter: tick 2 " 30 ||
        { cat "$dir/out.$1" "$dir/err.$1"; fail "$1: the guest does not count"; }
}
still_runs() {  # MODE [SECONDS]
    t=$(ticks "$dir/out.$1" | tail -n 1)
    wait_for "$dir/out.$1" "^counter: tick $((t + 2)) " "${2:-10}" ||
        fail "$1: the VM stopped"
    ctl "$dir/api" status | grep -qx "state: running" ||
        fail "$1: not running"
    ctl "$dir/api" quit >/dev/null 2>&1
    wait "$vmpid" 2>/dev/null
}
vblk_written() { # OUT BLOCKS [ERR]
    has "$1" -x "PASS vblk-count" ||
        { [ -n "${3:-}" ] && cat "$3"; fail "no 'PASS vblk-count'"; }
    writes=$(tr -d '\r' <"$1" |
             sed -n 's/^vblk-count: \([0-9]*\) writes.*/\1/p')
    [ -n "$writes" ] && [ "$writes" -ge "$2" ] || fail "only '$writes' writes"
    k=0
    while [ "$k" -lt "$2" ]; do
        w=$((writes - 1 - (writes - 1 - k) % $2))
        got=$(dd if="$dir/disk.img" bs=4096 skip="$k" count=1 2>/dev/null |
              head -n 1)
        [ "$got" = "MVMBLK write $w" ] ||
            fail "block $k holds '$got', want 'MVMBLK write $w'"
        k=$((k + 1))
    done
}
migrate_blk() { # WHO VFIO-USER-OPTS [minivmm options]
    who=${1:+$1: } opt=$2; shift 2
    start_srv srv2; srv2=$srv
    "$BUILD/minivmm" --incoming "unix:$dir/mig" "$@" \
        --vfio-user "socket=$dir/srv2.sock,id=blk$opt" \
        --serial "file:$dir/out2" 2>"$dir/err2" &
    dst=$!
    pids="$pids $dst"
    ctl "$dir/api1" migrate "unix:$dir/mig" >"$dir/mig.out" 2>&1 ||
        { cat "$dir/mig.out" "$dir/err1" "$dir/err2"
          fail "${who}migration failed"; }
    wait "$src" || fail "${who}the source exited non-zero"
    wait "$dst"
    rc=$?
}
snapshot_blk() {
    ctl "$dir/api1" pause >/dev/null || fail "pause failed"
    saved=$(ticks "$dir/out1" | tail -n 1)
    ctl "$dir/api1" snapshot "$dir/vm.snap" >"$dir/snap1" 2>&1 ||
        { cat "$dir/snap1" "$dir/err1"; fail "snapshot failed"; }
    kill -9 "$vm"; wait "$vm" 2>/dev/null
    stop_srv "$srv1"
}
restore_blk() { # [minivmm options]
    start_srv srv2; srv2=$srv
    "$BUILD/minivmm" --restore "$dir/vm.snap" "$@" \
        --vfio-user "socket=$dir/srv2.sock,id=blk" \
        --serial "file:$dir/out2" 2>"$dir/err2"
    rc=$?
    stop_srv "$srv2"
    tr -d '\r' <"$dir/out2" | tail -n 3
    [ "$rc" -eq 0 ] || { cat "$dir/err2"; fail "restored minivmm exited $rc"; }
}
