#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# virtio-net through the virtio payload: in a network namespace of our own
# we create tap mvtap0 (10.99.0.1/24) and run minivmm there; the guest
# (10.99.0.2) ARPs for the tap's address and pings it. Also: a tap that
# cannot be attached (the name of a non-tap device) exits 2.
: "${BUILD:=build}"
ns=minivmm-vnet-$$
fail() { echo "payload_virtio_net: $*" >&2; exit 1; }
skip() { echo "payload_virtio_net: $*" >&2; exit 77; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no ip(8)"
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace (need root)"
out=$(mktemp) || exit 1
trap 'rm -f "$out"; ip netns del "$ns"' EXIT
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up &&
    nsx ip tuntap add dev mvtap0 mode tap &&
    nsx ip addr add 10.99.0.1/24 dev mvtap0 &&
    nsx ip link set mvtap0 up || fail "setting up the tap"
nsx "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --net tap=mvtap0,mac=52:54:00:00:99:02 \
    --cmdline "test=vnet vnet-ip=0x0a630002 vnet-peer=0x0a630001" \
    </dev/null >"$out" 2>&1
rc=$?
tr -d '\r' <"$out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
tr -d '\r' <"$out" | grep -q "mac 52:54:00:00:99:02" || fail "MAC not as given"
tr -d '\r' <"$out" | grep -qx "PASS vnet" || fail "no 'PASS vnet' line"
rx=$(nsx cat /sys/class/net/mvtap0/statistics/rx_packets)
[ "${rx:-0}" -ge 2 ] || fail "the host tap received ${rx:-0} packets, want >= 2"
nsx "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --net tap=lo \
    >"$out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "tap=lo: exit $rc, want 2"
grep -q "tap=lo" "$out" || fail "tap=lo: error does not name the tap"
echo "payload_virtio_net: ping over the tap works"
