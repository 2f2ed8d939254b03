#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Startup floor: exec → exit of a payload whose first instruction writes the
# test-exit port, minivmm vs QEMU -M microvm (same ELF through PVH, with
# isa-debug-exit at 0xf4). Prints median and best wall time over RUNS runs,
# and peak RSS (GNU time). Numbers, not assertions.
: "${BUILD:=build}" "${RUNS:=20}"
payload=$BUILD/guest/minimal.elf
[ -f "$payload" ] || { echo "no $payload (make guest)"; exit 1; }

# Prints "median_ms best_ms" for RUNS runs of the command.
measure() {
    i=0
    while [ $i -lt "$RUNS" ]; do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000 ))
        i=$((i + 1))
    done | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[int((NR+1)/2)]/1000, a[1]/1000}'
}

rss_kb() {
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}

mvm="$BUILD/minivmm --kernel $payload --memory 256M --serial none"
qemu="qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256M -kernel $payload \
 -device isa-debug-exit,iobase=0xf4 -nographic -nodefaults -no-reboot"

set -- $(measure $mvm); m_med=$1; m_best=$2
m_rss=$(rss_kb $mvm)
printf "%-28s %10s %10s %12s\n" "startup (exec→exit)" "median ms" "best ms" "peak RSS KiB"
printf "%-28s %10s %10s %12s\n" "minivmm" "$m_med" "$m_best" "$m_rss"
if command -v qemu-system-x86_64 >/dev/null; then
    set -- $(measure $qemu); q_med=$1; q_best=$2
    q_rss=$(rss_kb $qemu)
    printf "%-28s %10s %10s %12s\n" "qemu microvm" "$q_med" "$q_best" "$q_rss"
    awk -v m="$m_med" -v q="$q_med" 'BEGIN {printf "minivmm/qemu median ratio: %.2f (goal <= 0.25)\n", m/q}'
else
    echo "qemu-system-x86_64 not installed: no comparison"
fi

# Where the time goes: the start-up timeline (--log-level debug; median
# microseconds since main() entered over RUNS runs, with the step's own
# time; bench/timeline.py), and
# KVM's share from strace -T (ioctls on /dev/kvm and its fds before the
# first KVM_RUN; strace slows every syscall, so these add up to more than
# an untraced start).
echo "start-up timeline (median of $RUNS runs; us since main(), +step):"
python3 bench/timeline.py "$RUNS" - $mvm
if command -v strace >/dev/null && command -v python3 >/dev/null; then
    tr=$(mktemp -d) || exit 1
    for i in 1 2 3 4 5; do
        strace -f -tt -T -o "$tr/$i" $mvm >/dev/null 2>&1
    done
    python3 bench/startup_split.py "$tr"/*
    rm -rf "$tr"
fi
