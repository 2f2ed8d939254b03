#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# vfio-user client with vfu-blk: the virtio payload's virtio-blk driver
# (test=vblk,vblk-mask) runs on a vfu-blk device presented by minivmm's
# vfio-user client. Checks: the guest passes, the pattern reached the host
# file, and vfu-blk's counters show doorbells via ioeventfd (none via
# REGION_WRITE) and interrupts via the MSI-X eventfds (irqfds). Then the
# same with dma=message (no guest memory fd: DMA_READ/WRITE messages).
: "${BUILD:=build}"
fail() { echo "payload_vfio_blk: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_vfio_blk: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/vfu-blk" ] || { echo "payload_vfio_blk: no vfu-blk" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
srv= srv_a= srv_b=
cleanup() {
    for p in $srv $srv_a $srv_b; do kill "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT

# Start vfu-blk on $1.sock with disk $1.img; wait for the socket.
start_srv() {
    rm -f "$dir/$1.sock"
    "$BUILD/vfu-blk" --socket-path="$dir/$1.sock" --disk "$dir/$1.img" \
        >"$dir/$1.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/$1.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk did not create its socket"
}

# Stop it and print its counters line. Called as $(stop_srv X): a
# subshell, where `wait` cannot wait for vfu-blk, so wait for the line
# vfu-blk prints on its way out (up to 10 s).
stop_srv() {
    kill -TERM "$srv"
    i=0
    until grep -q "requests=" "$dir/$1.log" || [ "$i" -gt 200 ]; do
        i=$((i + 1)); sleep 0.05
    done
    wait "$srv" 2>/dev/null; srv=
    grep "requests=" "$dir/$1.log" | tail -1
}

counter() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

run_one() { # name extra-options
    truncate -s 1M "$dir/$1.img"
    start_srv "$1"
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --vfio-user socket="$dir/$1.sock$2" --cmdline "test=vblk,vblk-mask" \
        </dev/null >"$dir/$1.out" 2>&1
    rc=$?
    tr -d '\r' <"$dir/$1.out"
    [ "$rc" -eq 0 ] || fail "$1: minivmm exited $rc, want 0"
    for t in vblk vblk-mask; do
        tr -d '\r' <"$dir/$1.out" | grep -qx "PASS $t" ||
            fail "$1: no 'PASS $t' line"
    done
    for s in 0 7; do
        got=$(dd if="$dir/$1.img" bs=512 skip=$s count=1 2>/dev/null |
              head -c 22)
        [ "$got" = "MINIVMM-VBLK sector $s" ] ||
            fail "$1: sector $s of the host file holds '$got'"
    done
    line=$(stop_srv "$1")
    echo "$1: vfu-blk $line"
    [ "$(counter "$line" doorbells_ioeventfd)" -gt 0 ] ||
        fail "$1: no doorbell arrived through an ioeventfd"
    [ "$(counter "$line" doorbells_region_write)" -eq 0 ] ||
        fail "$1: doorbells went through REGION_WRITE"
    [ "$(counter "$line" irqs_msix)" -gt 0 ] ||
        fail "$1: no MSI-X interrupt through the eventfds"
    dmam=$(counter "$line" dma_messages)
}

run_one fd ""
[ "$dmam" -eq 0 ] || fail "dma=fd: $dmam DMA messages, want 0"
run_one msg ",dma=message"
[ "$dmam" -gt 0 ] || fail "dma=message: no DMA_READ/WRITE messages"
# Two vfu-blk devices at once (vfio payload, test=vfio-two).
truncate -s 1M "$dir/a.img"; truncate -s 1M "$dir/b.img"
start_srv a; srv_a=$srv
start_srv b; srv_b=$srv; srv=
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 256M \
    --vfio-user socket="$dir/a.sock" --vfio-user socket="$dir/b.sock",id=b \
    --cmdline "test=vfio-two" </dev/null >"$dir/two.out" 2>&1
rc=$?
kill "$srv_a" "$srv_b"; wait "$srv_a" "$srv_b" 2>/dev/null; srv_a= srv_b=
tr -d '\r' <"$dir/two.out"
[ "$rc" -eq 0 ] || fail "two devices: minivmm exited $rc, want 0"
tr -d '\r' <"$dir/two.out" | grep -qx "PASS vfio-two" || fail "no 'PASS vfio-two'"
for d in a b; do
    n=$([ $d = a ] && echo 0 || echo 1)
    got=$(head -c 19 "$dir/$d.img")
    [ "$got" = "VFIO-DEV$n sector 0" ] || fail "device $n file holds '$got'"
done
echo "payload_vfio_blk: ioeventfd doorbells, irqfd interrupts, dma=fd," \
     "dma=message and two devices all pass"
exit 0
