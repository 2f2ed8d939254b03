#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Live migration of a 512 MiB guest holding 480 MiB of random data
# (tests/guest test=counter fill_mb=480: the counter keeps running), over
# a unix socket on this host, minivmm side by side with QEMU
# (qemu-system-x86_64 -accel kvm, QMP "migrate" to "-incoming unix:",
# max-bandwidth uncapped, default downtime limit). Prints numbers only, in
# ms, median of $RUNS:
#   total:    minivmm: the migration's total-ms (connect to hand-over);
#             QEMU: query-migrate "total-time"
#   downtime: minivmm: guest stopped on the source until the destination
#             was told to run it; QEMU: query-migrate "downtime"
#   wall:     the migrate command until the source reports completion
# and the same for minivmm with a vfio-user disk attached (tools/vfu-blk,
# one server per instance; the guest does not use it), which QEMU cannot
# migrate. Then downtime under load: MIG_N (10) migrations on the host as
# it is, and MIG_N with a CPU-bound neighbour process on each core (a
# `nice -n 0` busy loop, killed at the end); p50 and p99 (nearest rank: of
# 10, the worst) of the downtime, beside QEMU's (QMIG_N, 5, each quiet and
# loaded). NO_QEMU=1 skips QEMU. NICE=N runs both minivmm instances under
# nice -n N. Nothing can hang: every wait has a bound (a migration 60 s,
# a source's exit 20 s, QEMU's QMP 120 s), and a run that fails is left
# out of the percentiles and counted ("failed: N").
: "${BUILD:=build}"
: "${RUNS:=3}"
: "${MIG_N:=10}"
: "${QMIG_N:=5}"
nice=${NICE:+nice -n $NICE}
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench_migrate.XXXXXX") || exit 1
pids=
hogs=
trap 'for p in $pids $hogs; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
elf=$BUILD/guest/payload.elf
args="test=counter fill_mb=480 tick_ms=200"

now_ms() { date +%s%3N; }
# until_up FILE REGEX SECONDS PID: wait_for, but give up when PID died
until_up() {
    i=0
    while ! { tr -d '\r' <"$1"; } 2>/dev/null | grep -q "$2"; do
        kill -0 "$4" 2>/dev/null || return 1
        i=$((i + 1)); [ "$i" -gt $(($3 * 100)) ] && return 1; sleep 0.01
    done
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/^$1: //p" "$2"; }

# vfu NAME: start a vfu-blk on $dir/NAME.sock; its option goes in $vfu_opt.
# Not run in $(...): the PID must reach $pids in this shell for cleanup.
vfu() {
    rm -f "$dir/$1.sock"
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/disk.img" \
        >/dev/null 2>&1 &
    pids="$pids $!"
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && break; sleep 0.1; done
    vfu_opt="--vfio-user socket=$dir/$1.sock,id=blk"
}

cleanup_run() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    pids=
}

mv_one() {  # [vfio]
    rm -f "$dir"/m.* "$dir/api"
    d1= d2=
    if [ "$1" = vfio ]; then
        vfu v1; d1=$vfu_opt
        vfu v2; d2=$vfu_opt
    fi
    $nice "$BUILD/minivmm" --kernel "$elf" --memory 512M --cmdline "$args" $d1 \
        --serial "file:$dir/m.out" --api-socket "$dir/api" 2>"$dir/m.err" &
    src=$!
    $nice "$BUILD/minivmm" --incoming "unix:$dir/m.sock" --serial none $d2 \
        2>/dev/null &
    dst=$!
    pids="$pids $src $dst"
    until_up "$dir/m.out" "counter: tick 1 " 60 "$src" ||
        { echo "minivmm: no fill" >&2; cleanup_run; return 0; }
    t0=$(now_ms)
    ok=1
    timeout 60 "$BUILD/minivmm-ctl" "$dir/api" migrate "unix:$dir/m.sock" \
        >"$dir/m.res" 2>/dev/null || { cat "$dir/m.res" >&2; ok=; }
    wall=$(($(now_ms) - t0))
    i=0
    while kill -0 "$src" 2>/dev/null && [ "$i" -lt 400 ]; do
        i=$((i + 1)); sleep 0.05
    done
    cleanup_run
    # "downtime D ms (stop S, final send F, destination T)" on stderr
    n='\([0-9.]*\)'
    parts=$(sed -n "s/.*(stop $n, final send $n, destination $n).*/\\1 \\2 \\3/p" \
        "$dir/m.err")
    [ -n "$ok" ] || { echo "minivmm: migration failed" >&2; return 0; }
    echo "$(field total-ms "$dir/m.res") $(field downtime-ms "$dir/m.res")" \
        "$wall ${parts:-- - -}"
}

# qmp SOCKET CMD...: run QMP commands; "migrate:URI" migrates uncapped and
# prints "total downtime wall" from query-migrate.
qmp() {
    sock=$1; shift
    python3 - "$sock" "$@" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(120)   # no answer in 2 minutes: fail, never hang
for _ in range(1000):
    try:
        s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.01)
f = s.makefile("rw")
f.readline()
def cmd(c, **a):
    f.write(json.dumps({"execute": c, "arguments": a}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
cmd("qmp_capabilities")
for c in sys.argv[2:]:
    if c.startswith("migrate:"):
        cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
        t0 = time.monotonic()
        cmd("migrate", uri=c[len("migrate:"):])
        while True:
            r = cmd("query-migrate")["return"]
            if r.get("status") in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() - t0 > 120:
                cmd("migrate_cancel")
                sys.exit("qemu migration did not end in 120 s")
            time.sleep(0.001)
        wall = int((time.monotonic() - t0) * 1000)
        if r["status"] != "completed":
            sys.exit("qemu migration " + r["status"])
        print(r["total-time"], r["downtime"], wall)
    else:
        cmd(c)
PY
}

# QEMU 7.2 with -cpu host asserts on this kvm_pvm host ("failed to set
# MSR 0x10a"): without arch-capabilities it runs. QEMU_CPU overrides.
: "${QEMU_CPU:=host,-arch-capabilities}"
QEMU_ARGS="-M q35 -accel kvm -cpu $QEMU_CPU -m 512M -nographic -no-reboot \
    -device isa-debug-exit,iobase=0xf4 -kernel $elf -monitor none"

q_one() {
    rm -f "$dir"/q.*
    qemu-system-x86_64 $QEMU_ARGS -append "$args ecam=0xb0000000" \
        -serial "file:$dir/q.out" \
        -qmp "unix:$dir/q.qmp1,server=on,wait=off" >/dev/null 2>&1 &
    src=$!
    qemu-system-x86_64 $QEMU_ARGS -append "$args ecam=0xb0000000" \
        -serial null -qmp "unix:$dir/q.qmp2,server=on,wait=off" \
        -incoming "unix:$dir/q.sock" >/dev/null 2>&1 &
    dst=$!
    pids="$src $dst"
    until_up "$dir/q.out" "counter: tick 1 " 120 "$src" ||
        { echo "qemu: no fill" >&2; cleanup_run; return 0; }
    qmp "$dir/q.qmp1" "migrate:unix:$dir/q.sock" ||
        echo "qemu: migration failed" >&2
    qmp "$dir/q.qmp1" quit >/dev/null 2>&1
    qmp "$dir/q.qmp2" quit >/dev/null 2>&1
    cleanup_run
}

truncate -s 64M "$dir/disk.img"
for i in $(seq "$RUNS"); do mv_one; done >"$dir/mv"
v="- - -"
if [ -x "$BUILD/vfu-blk" ]; then
    for i in $(seq "$RUNS"); do mv_one vfio; done >"$dir/mvv"
    v="$(awk '{print $1}' "$dir/mvv" | median) $(awk '{print $2}' \
        "$dir/mvv" | median) $(awk '{print $3}' "$dir/mvv" | median)"
fi
q="- - -"
if [ -z "$NO_QEMU" ] && command -v qemu-system-x86_64 >/dev/null &&
   command -v python3 >/dev/null
then
    for i in $(seq "$RUNS"); do q_one; done >"$dir/q"
    q="$(awk '{print $1}' "$dir/q" | median) $(awk '{print $2}' "$dir/q" |
        median) $(awk '{print $3}' "$dir/q" | median)"
fi
set -- $q
qt=$1 qd=$2 qw=$3
set -- $v
printf '%-42s %10s %10s %12s\n' \
    "live migration, 512 MiB guest, 480 MiB random" minivmm qemu \
    "+vfio-user"
printf '%-42s %10s %10s %12s\n' "total (ms)" \
    "$(awk '{print $1}' "$dir/mv" | median)" "$qt" "$1"
printf '%-42s %10s %10s %12s\n' "downtime (ms)" \
    "$(awk '{print $2}' "$dir/mv" | median)" "$qd" "$2"
printf '%-42s %10s %10s %12s\n' "wall, migrate to completed (ms)" \
    "$(awk '{print $3}' "$dir/mv" | median)" "$qw" "$3"

# Downtime quiet and loaded (one `nice -n 0` busy-looping shell per core),
# minivmm and QEMU.
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {
    i = int((NR * p + 99) / 100); if (i < 1) i = 1; print a[i] }'; }
qemu_ok() { [ -z "$NO_QEMU" ] && command -v qemu-system-x86_64 >/dev/null &&
    command -v python3 >/dev/null; }
downtimes() { # SUFFIX: minivmm into $dir/d$1, QEMU into $dir/qd$1
    for i in $(seq "$MIG_N"); do mv_one; done >"$dir/d$1"
    : >"$dir/qd$1"
    if qemu_ok; then
        for i in $(seq "$QMIG_N"); do q_one; done >"$dir/qd$1"
    fi
}
downtimes q
# Started from a subshell so they are not this shell's children: mv_one's
# bare `wait` must not wait for them.
for c in $(seq "$(nproc)"); do
    hogs="$hogs $( (nice -n 0 sh -c 'while :; do :; done' >/dev/null 2>&1 &
                     echo $!) )"
done
downtimes l
kill $hogs 2>/dev/null; hogs=
# p50/p99 of column $2 of file $1 ("-" when empty)
pp() { [ -s "$1" ] || { echo -; return; }
    echo "$(awk -v c="$2" '{print $c}' "$1" | pct 50)/$(awk -v c="$2" \
    '{print $c}' "$1" | pct 99)"; }
runs() { [ -s "$1" ] || [ "$2" = "$MIG_N" ] || qemu_ok || { echo -; return; }
    echo "$(wc -l <"$1" | tr -d ' ')/$2"; }
printf '%-34s %15s %10s %10s %12s %15s\n' \
    "downtime p50/p99 (ms)" "minivmm" "stop" "final send" "destination" \
    "qemu"
printf '%-34s %15s %10s %10s %12s %15s\n' "  quiet" "$(pp "$dir/dq" 2)" \
    "$(pp "$dir/dq" 4)" "$(pp "$dir/dq" 5)" "$(pp "$dir/dq" 6)" \
    "$(pp "$dir/qdq" 2)"
printf '%-34s %15s %10s %10s %12s %15s\n' "  CPU-bound neighbour on each core" \
    "$(pp "$dir/dl" 2)" "$(pp "$dir/dl" 4)" "$(pp "$dir/dl" 5)" \
    "$(pp "$dir/dl" 6)" "$(pp "$dir/qdl" 2)"
printf '%-34s %15s %10s %10s %12s %15s\n' "  runs completed (quiet, loaded)" \
    "$(runs "$dir/dq" "$MIG_N") $(runs "$dir/dl" "$MIG_N")" "" "" "" \
    "$(runs "$dir/qdq" "$QMIG_N") $(runs "$dir/qdl" "$QMIG_N")"
