#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 600
# Linux with its own virtio drivers on minivmm's virtio-pci devices, in ONE
# boot (each costs ~50 s on kvm_pvm): --disk (virtio_blk: a pattern written
# with dd must land in the host file at byte 4096, the serial is the id),
# --net (virtio_net: ping the tap's address in a network namespace this
# test creates), --console (a line written to /dev/hvc0 reaches stdout),
# --rng (virtio_rng is the current hwrng). Guest side:
# tools/guest/tests/virtio.sh. Exit 0 pass, 77 skip, else fail.
: "${BUILD:=build}"
: "${KIT:=build/kit}"
name=linux_virtio
ns=minivmm-lv-$$
skip() { echo "$name: SKIP: $*" >&2; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }

[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not usable"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no ip(8)"
[ -x "$BUILD/minivmm" ] || fail "$BUILD/minivmm not built"
tools/guest/build-kit.sh --out "$KIT" >&2 || fail "build-kit.sh failed"
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace"
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"; ip netns del "$ns"' EXIT INT TERM
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up &&
    nsx ip tuntap add dev mvtap0 mode tap &&
    nsx ip addr add 10.99.0.1/24 dev mvtap0 &&
    nsx ip link set mvtap0 up || fail "setting up the tap"
truncate -s 64M "$dir/disk.img"
log=$BUILD/$name.log
hostargs=$(tools/guest/host-cmdline.sh)
start=$(date +%s)
nsx timeout -k 5 500 "$BUILD/minivmm" --kernel "$KIT/vmlinux" \
    --initrd "$KIT/initrd.cpio" --cpus 1 --memory 512M \
    --disk path="$dir/disk.img",id=lvdisk --net tap=mvtap0 --console --rng \
    --cmdline "console=ttyS0 minivmm.test=virtio $hostargs" \
    </dev/null >"$log" 2>&1
rc=$?
tr -d '\r' <"$log" >"$dir/log"
echo "$name: minivmm exited $rc after $(( $(date +%s) - start ))s" \
     "(log: $log)" >&2
grep -E "VIRTIO-|MINIVMM-TEST-DONE|MINIVMM-HVC0" "$dir/log" >&2
problems=
note() { problems="$problems
  $*"; }
[ "$rc" -eq 0 ] || note "minivmm exited $rc, want 0"
grep -q "^VIRTIO-BLK lvdisk MINIVMM-LINUX-VBLK-PATTERN$" "$dir/log" ||
    note "virtio-blk: no good VIRTIO-BLK line"
[ "$(dd if="$dir/disk.img" bs=4096 skip=1 count=1 2>/dev/null |
     head -n 1)" = MINIVMM-LINUX-VBLK-PATTERN ] ||
    note "virtio-blk: the pattern is not in the host file at 4096"
grep -q "^VIRTIO-NET ping ok" "$dir/log" || note "virtio-net: ping failed"
grep -q "^MINIVMM-HVC0-LINE from the guest" "$dir/log" ||
    note "virtio-console: the /dev/hvc0 line did not reach stdout"
grep -q "^VIRTIO-RNG virtio_rng" "$dir/log" ||
    note "virtio-rng: not the current hwrng"
grep -q "MINIVMM-TEST-DONE 0" "$dir/log" || note "guest test did not pass"
if [ -n "$problems" ]; then
    tail -n 30 "$dir/log" | sed 's/^/  | /' >&2
    fail "$problems"
fi
echo "$name: PASS" >&2
