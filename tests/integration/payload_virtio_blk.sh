#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# virtio-blk through the virtio payload: the guest writes 8 sectors with a
# pattern, reads them back, fetches the serial, checks MSI-X masking/PBA;
# here we check the pattern landed in the host file. Also the CLI errors
# (missing file, duplicate id) exit 2 before anything runs.
: "${BUILD:=build}"
fail() { echo "payload_virtio_blk: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "payload_virtio_blk: no usable /dev/kvm" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
truncate -s 1M "$dir/disk.img"
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
    --disk path="$dir/disk.img",id=payload-disk \
    --cmdline "test=vblk,vblk-mask" </dev/null >"$dir/out" 2>&1
rc=$?
tr -d '\r' <"$dir/out"
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
for t in vblk vblk-mask; do
    tr -d '\r' <"$dir/out" | grep -qx "PASS $t" || fail "no 'PASS $t' line"
done
tr -d '\r' <"$dir/out" | grep -q "serial 'payload-disk'" ||
    fail "GET_ID did not return the id"
for s in 0 7; do
    got=$(dd if="$dir/disk.img" bs=512 skip=$s count=1 2>/dev/null |
          head -c 22)
    [ "$got" = "MINIVMM-VBLK sector $s" ] ||
        fail "sector $s of the host file holds '$got'"
done
echo "payload_virtio_blk: guest writes reached the host file"

# Bad configuration: exit 2, nothing started.
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" \
    --disk path="$dir/missing.img" >"$dir/err" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "missing disk file: exit $rc, want 2"
grep -q "missing.img" "$dir/err" || fail "missing file not named"
"$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" \
    --disk path="$dir/disk.img",id=a --disk path="$dir/disk.img",id=a \
    >"$dir/err" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "duplicate id: exit $rc, want 2"
grep -q "duplicate id" "$dir/err" || fail "duplicate id not reported"
exit 0
