#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Snapshot save time and restore-to-running time of a 512 MiB guest holding
# 480 MiB of random data (tests/guest test=counter fill_mb=480), minivmm
# side by side with QEMU (qemu-system-x86_64, QMP "migrate" to a file via
# exec:, "-incoming exec:"); then restore-to-running of mostly-zero guests
# of 512 MiB, 2 GiB and 8 GiB (SIZES). Prints numbers only, in ms, median
# of $RUNS, and the ratio minivmm / QEMU.
#   save:    minivmm: the "snapshot" API call (pause, save, resume);
#            QEMU: "migrate" until query-migrate says completed
#   restore: process start until the guest runs again (minivmm: the API
#            reports "running", polled by bench/restore_time.py from the
#            process that started it; QEMU: query-status says "running");
#            minivmm on demand (--restore FILE, RAM loaded while the guest
#            runs) and eager (--restore FILE,prefault=on)
# Both write their files to the same directory ($TMPDIR or /tmp); the
# mostly-zero files are small (zero pages are not stored), each is deleted
# after its size. QEMU restores a size only while the one before took under
# QEMU_FAST_MS (default 3000) ms: 8 GiB only when it would finish quickly.
# Then, for the smallest and largest SIZES, the on-demand restore's
# start-up timeline (median of RUNS, bench/timeline.py) and, from one
# `strace -f -T` runs (median of 3), how much of exec -> first KVM_RUN is
# KVM ioctls (bench/startup_split.py; strace slows every syscall).
# ZERO_ONLY=1: only the mostly-zero restore rows and timelines, without
# QEMU and without the 480 MiB guest (a quick before/after of a change).
: "${BUILD:=build}"
: "${ZERO_ONLY:=}"
: "${RUNS:=3}"
: "${SIZES:=512M 2G 8G}"
: "${QEMU_FAST_MS:=3000}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench_snapshot.XXXXXX") || exit 1
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
elf=$BUILD/guest/payload.elf
args="test=counter fill_mb=480 tick_ms=200"

now_ms() { date +%s%3N; }
wait_for() { # FILE REGEX SECONDS
    i=0
    while ! { tr -d '\r' <"$1"; } 2>/dev/null | grep -q "$2"; do
        i=$((i + 1)); [ "$i" -gt $(($3 * 100)) ] && return 1; sleep 0.01
    done
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mv_save() {      # [MEMORY [CMDLINE [FILE]]]
    rm -f "$dir/m.snap" "$dir/api" "$dir/m.out"
    "$BUILD/minivmm" --kernel "$elf" --memory "${1:-512M}" \
        --cmdline "${2:-$args}" \
        --serial "file:$dir/m.out" --api-socket "$dir/api" 2>/dev/null &
    pid=$!
    wait_for "$dir/m.out" "counter: tick 1 " 60 || { echo "no fill" >&2; exit 1; }
    t0=$(now_ms)
    "$BUILD/minivmm-ctl" "$dir/api" snapshot "$dir/m.snap" >/dev/null || exit 1
    echo $(($(now_ms) - t0))
    [ -n "$3" ] && cp "$dir/m.snap" "$3"
    "$BUILD/minivmm-ctl" "$dir/api" quit >/dev/null
    wait "$pid"; pid=
}

mv_restore() {   # [FILE [,prefault=on]]
    python3 bench/restore_time.py "$dir/api2" "$BUILD/minivmm" \
        --restore "${1:-$dir/m.snap}$2" --serial none --api-socket "$dir/api2"
}

# qmp SOCKET CMD...: run QMP commands, print the last reply.
qmp() {
    sock=$1; shift
    python3 - "$sock" "$@" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
for _ in range(500):
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
t0 = time.monotonic()
for c in sys.argv[2:]:
    if c == "save":
        cmd("migrate", uri="exec:cat > " + sys.argv[1] + ".snap")
        while cmd("query-migrate")["return"].get("status") != "completed":
            time.sleep(0.002)
    elif c == "wait-running":
        # -incoming without -S: QEMU starts the guest once loaded.
        while cmd("query-status")["return"]["status"] != "running":
            time.sleep(0.001)
    else:
        cmd(c)
print(int((time.monotonic() - t0) * 1000))
PY
}

QEMU_ARGS="-M q35 -accel tcg -cpu max -nographic -no-reboot \
    -device isa-debug-exit,iobase=0xf4 -kernel $elf"

q_save() {      # [MEMORY [CMDLINE]]
    rm -f "$dir/q.sock" "$dir/q.sock.snap" "$dir/q.out"
    qemu-system-x86_64 $QEMU_ARGS -m "${1:-512M}" \
        -append "${2:-$args} ecam=0xb0000000" \
        -serial "file:$dir/q.out" -monitor none \
        -qmp "unix:$dir/q.sock,server=on,wait=off" >/dev/null 2>&1 &
    pid=$!
    wait_for "$dir/q.out" "counter: tick 1 " 120 || { echo "qemu: no fill" >&2; exit 1; }
    qmp "$dir/q.sock" save
    qmp "$dir/q.sock" quit >/dev/null
    wait "$pid"; pid=
}

q_restore() {   # [MEMORY [CMDLINE]]
    rm -f "$dir/q2.sock"
    t0=$(now_ms)
    qemu-system-x86_64 $QEMU_ARGS -m "${1:-512M}" \
        -append "${2:-$args} ecam=0xb0000000" \
        -serial null -monitor none \
        -qmp "unix:$dir/q2.sock,server=on,wait=off" \
        -incoming "exec:cat $dir/q.sock.snap" >/dev/null 2>&1 &
    pid=$!
    qmp "$dir/q2.sock" wait-running >/dev/null
    echo $(($(now_ms) - t0))
    qmp "$dir/q2.sock" quit >/dev/null
    wait "$pid"; pid=
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-")
    printf "%.2fx", a / b; else print "-" }'; }
have_qemu() {
    [ -z "$ZERO_ONLY" ] && command -v qemu-system-x86_64 >/dev/null
}

if [ -z "$ZERO_ONLY" ]; then
for i in $(seq "$RUNS"); do mv_save; done >"$dir/ms"
for i in $(seq "$RUNS"); do mv_restore; done >"$dir/mr"
for i in $(seq "$RUNS"); do mv_restore "" ,prefault=on; done >"$dir/me"
msize=$(($(wc -c <"$dir/m.snap") >> 20))
qs=- qr=- qsize=-
if have_qemu; then
    for i in $(seq "$RUNS"); do q_save; done >"$dir/qs"
    for i in $(seq "$RUNS"); do q_restore; done >"$dir/qr"
    qs=$(median <"$dir/qs"); qr=$(median <"$dir/qr")
    qsize=$(($(wc -c <"$dir/q.sock.snap") >> 20))
fi
ms=$(median <"$dir/ms"); mr=$(median <"$dir/mr"); me=$(median <"$dir/me")
printf '%-40s %10s %10s %8s\n' "snapshot, 512 MiB guest, 480 MiB random" \
    minivmm qemu ratio
printf '%-40s %10s %10s %8s\n' "save (ms)" "$ms" "$qs" "$(ratio "$ms" "$qs")"
printf '%-40s %10s %10s %8s\n' "restore to running, on demand (ms)" "$mr" \
    "$qr" "$(ratio "$mr" "$qr")"
printf '%-40s %10s %10s %8s\n' "restore to running, eager (ms)" "$me" \
    "$qr" "$(ratio "$me" "$qr")"
printf '%-40s %10s %10s\n' "file size (MiB)" "$msize" "$qsize"
fi

# Mostly zero: the payload counting, nothing filled.
zargs="test=counter tick_ms=200"
printf '%-26s %10s %10s %10s %9s %9s\n' "restore to running (ms)," \
    "on demand" eager qemu "od/qemu" "eager/q"
first=${SIZES%% *} last=${SIZES##* } zq=0
for sz in $SIZES; do
    mv_save "$sz" "$zargs" "$dir/z$sz.snap" >/dev/null
    for i in $(seq "$RUNS"); do mv_restore "$dir/z$sz.snap"; done >"$dir/zr"
    for i in $(seq "$RUNS"); do mv_restore "$dir/z$sz.snap" ,prefault=on
    done >"$dir/ze"
    [ "$sz" = "$first" ] || [ "$sz" = "$last" ] || rm -f "$dir/z$sz.snap"
    if have_qemu && [ "$zq" != - ] && [ "$zq" -lt "$QEMU_FAST_MS" ]; then
        q_save "$sz" "$zargs" >/dev/null
        for i in $(seq "$RUNS"); do q_restore "$sz" "$zargs"; done >"$dir/zq"
        zq=$(median <"$dir/zq")
        rm -f "$dir/q.sock.snap"
    else
        zq=-
    fi
    zr=$(median <"$dir/zr"); ze=$(median <"$dir/ze")
    printf '%-26s %10s %10s %10s %9s %9s\n' "  $sz, mostly zero" "$zr" \
        "$ze" "$zq" "$(ratio "$zr" "$zq")" "$(ratio "$ze" "$zq")"
done

# split FILE: exec -> first KVM_RUN of traced on-demand restores (3).
split() {
    for n in 1 2 3; do
        rm -f "$dir/api3"
        strace -f -tt -T -o "$dir/trace$n" "$BUILD/minivmm" --restore "$1" \
            --serial none --api-socket "$dir/api3" >/dev/null 2>&1 &
        pid=$!
        i=0
        while ! [ -S "$dir/api3" ] && [ "$i" -lt 3000 ]; do
            i=$((i + 1)); sleep 0.01
        done
        "$BUILD/minivmm-ctl" "$dir/api3" quit >/dev/null 2>&1
        wait "$pid"; pid=
    done
    python3 bench/startup_split.py "$dir"/trace[123]
}
for sz in $first $last; do
    [ -f "$dir/z$sz.snap" ] || continue
    echo "on-demand restore timeline, $sz mostly zero (median of $RUNS;" \
        "us since main(), +step):"
    python3 bench/timeline.py "$RUNS" "$dir/api3" "$BUILD/minivmm" \
        --restore "$dir/z$sz.snap" --serial none --api-socket "$dir/api3"
    command -v strace >/dev/null && split "$dir/z$sz.snap"
    rm -f "$dir/z$sz.snap"
done
