#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# --memory SIZE,hugepages=on (issue 9 item 9): guest RAM from a
# MFD_HUGETLB | MFD_HUGE_2MB memfd, DMA-mapped with its fd to a vfio-user
# server (tools/vfu-blk, dma=fd), as SPDK's NVMe target needs.
# 1. Asking for more huge pages than the host has free fails before
#    anything runs, naming the pages needed vs free and the fix
#    (echo N > /proc/sys/vm/nr_hugepages).
# 2. With 128 free 2 MiB pages (reserved here if the host has too few and
#    we may write /proc/sys/vm/nr_hugepages; the old value is put back on
#    exit; MINIVMM_TEST_NO_HUGEPAGE_RESERVE=1 forbids it), a 256 MiB guest
#    does block I/O through vfu-blk (test=vblk-readsum: data read into
#    guest RAM checked against fresh reads), minivmm and vfu-blk both map
#    the guest RAM with 2 MiB kernel pages (smaps), and no DMA window is
#    reported unaligned. Skips (77) saying why when no pages can be had.
: "${BUILD:=build}"
name=payload_hugepages
. "$(dirname "$0")/lib.sh"
skip() { echo "$name: $*" >&2; exit 77; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm"
[ -x "$BUILD/vfu-blk" ] || skip "no $BUILD/vfu-blk"
free_f=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
nr_f=/proc/sys/vm/nr_hugepages
[ -r "$free_f" ] || skip "this host has no 2 MiB huge pages ($free_f)"
dir=$(mktemp -d) || exit 1
pids= restore_nr=
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "$restore_nr" ] && echo "$restore_nr" >"$nr_f" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
# Kernel page size (kB) of the guest-RAM memfd mapping of process $1.
ram_kps() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { in_ram = /memfd:minivmm-ram/ }
         in_ram && /^KernelPageSize:/ { print $2; exit }' "/proc/$1/smaps"
}

# 1. Too few free pages: a clear error, nothing started.
free=$(cat "$free_f")
ask=$((free + 16))
out=$("$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" \
      --memory "$((ask * 2))M,hugepages=on" </dev/null 2>&1) &&
    fail "started with $ask huge pages while $free are free"
echo "$out" | grep -q "needs $ask free 2 MiB huge pages" ||
    fail "error does not name the $ask pages needed: $out"
echo "$out" | grep -q "echo [0-9]* > /proc/sys/vm/nr_hugepages" ||
    fail "error does not say how to reserve pages: $out"
echo "$name: too few: $out"

# 2. Enough pages (reserve them if we may).
need=128
free=$(cat "$free_f")
if [ "$free" -lt "$need" ] && [ -z "${MINIVMM_TEST_NO_HUGEPAGE_RESERVE:-}" ] &&
   [ -w "$nr_f" ]; then
    orig=$(cat "$nr_f")
    if echo $((orig + need - free)) >"$nr_f" 2>/dev/null; then
        restore_nr=$orig
    fi
    free=$(cat "$free_f")
fi
[ "$free" -ge "$need" ] ||
    skip "the host has $free free 2 MiB huge pages, the test needs $need" \
         "(reserve them: echo $need > $nr_f)"
head -c 2M /dev/urandom >"$dir/disk.img"
truncate -s 4M "$dir/disk.img"
"$BUILD/vfu-blk" --socket-path="$dir/srv.sock" --disk "$dir/disk.img" \
    >"$dir/srv.log" 2>&1 &
srv=$!
pids="$pids $srv"
for i in $(seq 50); do [ -S "$dir/srv.sock" ] && break; sleep 0.1; done
[ -S "$dir/srv.sock" ] || fail "vfu-blk did not create its socket"
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" \
    --memory 256M,hugepages=on --vfio-user "socket=$dir/srv.sock,id=blk" \
    --cmdline "test=vblk-readsum ticks=10 tick_ms=100 slots=256 blocks=64" \
    --serial "file:$dir/out" </dev/null 2>"$dir/err" &
vm=$!
pids="$pids $vm"
wait_for "$dir/out" "^counter: tick 2 " 30 ||
    { cat "$dir/out" "$dir/err"; fail "the guest does not run"; }
vm_kps=$(ram_kps "$vm")
srv_kps=$(ram_kps "$srv")
wait "$vm"
rc=$?
tr -d '\r' <"$dir/out" | grep "vblk-readsum\|PASS\|FAIL"
[ "$rc" -eq 0 ] || { cat "$dir/err"; fail "minivmm exited $rc"; }
tr -d '\r' <"$dir/out" | grep -qx "PASS vblk-readsum" ||
    fail "no 'PASS vblk-readsum'"
[ "$vm_kps" = 2048 ] ||
    fail "minivmm maps guest RAM with '$vm_kps' kB pages, want 2048"
[ "$srv_kps" = 2048 ] ||
    fail "vfu-blk maps the DMA windows with '$srv_kps' kB pages, want 2048"
grep -q "not 2 MiB-aligned" "$dir/err" &&
    fail "a DMA window was reported unaligned: $(cat "$dir/err")"
echo "$name: 256 MiB guest on 2 MiB pages; minivmm and vfu-blk map it" \
     "with ${vm_kps} kB pages; reserved: ${restore_nr:+yes (restored)}"
