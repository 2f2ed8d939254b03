#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# libvfio-user's own `client` sample (build/peers/libvfio-user/samples/
# client) driving OUR server, tools/vfu-blk: their client against our
# server, as far as a generic client can go. The sample is written for
# libvfio-user's `server` sample: after the protocol steps a generic server
# can answer it asserts that server's PCI IDs (dead:beef), its BAR 0 timer
# and its DMA, which no other server has. What it must get from vfu-blk:
#   - VFIO_USER_VERSION negotiated (its JSON capabilities parsed);
#   - a REGION_READ of a bogus region index refused with EINVAL, the
#     connection kept;
#   - VFIO_USER_DEVICE_GET_INFO answered; the sample then insists on
#     exactly 10 regions (libvfio-user always reports 10: BARs, ROM,
#     config, VGA and the 0.9.1 migration region at index 9). vfu-blk with
#     migration v2 reports VFIO's 9 and the sample stops there ("bad number
#     of device regions 9");
#   - with `--migration=v1` (the 0.9.1 migration region at index 9, when
#     vfu-blk has it): GET_REGION_INFO of all 10 regions (with their
#     capabilities and fds; index 9 carries the migration type capability,
#     which the sample recognizes: "client: migration region"), then a REGION_READ of config space that must
#     succeed: the sample then stops at its assertion on the sample
#     server's vendor ID, reading vfu-blk's (0x1af4).
# docs/interop.md, "libvfio-user's client against vfu-blk".
: "${BUILD:=build}"
name=interop_lvu_client
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib_vfio.sh"
skip() { echo "$name: skipped: $*" >&2; exit 77; }
client=$BUILD/peers/libvfio-user/samples/client
[ -f "$BUILD/peers/.stamp" ] && [ -x "$client" ] ||
    skip "no $BUILD/peers/.stamp: libvfio-user is not built (make peers)"
[ -x "$BUILD/vfu-blk" ] || fail "no $BUILD/vfu-blk"
make_dir
truncate -s 4M "$dir/disk.img"
# The sample prints with printf and ends in abort(): line-buffer stdout.
run_client() {  # NAME: the sample against $dir/NAME.sock; output in NAME.out
    (cd "$dir" && timeout 20 stdbuf -oL "$OLDPWD/$client" "$dir/$1.sock") \
        >"$dir/$1.out" 2>&1
    echo $?
}

# Migration v2 (the default): up to DEVICE_GET_INFO.
start_blk v2; v2=$srv
rc=$(run_client v2 2>/dev/null)
out=$dir/v2.out
grep -q "failed to read from region -559038737 0-0x3: Invalid argument" \
    "$out" || { cat "$out" "$dir/v2.log"; fail "v2: bogus region not refused with EINVAL"; }
grep -q "bad number of device regions 9" "$out" ||
    { cat "$out" "$dir/v2.log"; fail "v2: DEVICE_GET_INFO not answered (rc $rc)"; }
[ "$rc" = 1 ] || { cat "$out"; fail "v2: the sample exited $rc, want 1"; }
kill -0 "$v2" 2>/dev/null || fail "v2: vfu-blk died: $(cat "$dir/v2.log")"
grep -q "NEEDS_RESET" "$dir/v2.log" &&
    fail "v2: vfu-blk went to NEEDS_RESET: $(cat "$dir/v2.log")"
echo "$name: v2: VERSION, bogus-region EINVAL, DEVICE_GET_INFO (9 regions:" \
     "the sample wants libvfio-user's 10)"

# Migration v1, when vfu-blk has it: every region's info and config space.
if ! "$BUILD/vfu-blk" --help 2>&1 | grep -q -- "--migration"; then
    echo "$name: vfu-blk has no --migration=v1: the v1 part is not run"
    exit 0
fi
start_blk v1 --migration=v1; v1=$srv
rc=$(run_client v1 2>/dev/null)
out=$dir/v1.out
grep -q "devinfo: flags .*, num_regions 10, num_irqs" "$out" ||
    { cat "$out" "$dir/v1.log"; fail "v1: DEVICE_GET_INFO (rc $rc)"; }
n=$(grep -c "get_device_region_info: region_info\[[0-9]\]" "$out")
[ "$n" = 10 ] || { cat "$out"; fail "v1: $n region infos, want 10"; }
grep -q "region_info\[7\] offset .* size 256 \|region_info\[7\] offset .* size 4096 " \
    "$out" || { cat "$out"; fail "v1: config space region info"; }
grep -q "region_info\[9\] offset .* flags 0x[0-9a-f]* size [1-9]" "$out" &&
    grep -qx "client: migration region" "$out" ||
    { cat "$out"; fail "v1: no migration region (type cap) at index 9"; }
grep -q "Assertion .config_space.id.vid == 0xdead' failed" "$out" ||
    { cat "$out" "$dir/v1.log"; fail "v1: config space read failed (rc $rc)"; }
kill -0 "$v1" 2>/dev/null || fail "v1: vfu-blk died: $(cat "$dir/v1.log")"
echo "$name: v1: VERSION, bogus-region EINVAL, DEVICE_GET_INFO, 10 x" \
     "GET_REGION_INFO, config space read (stops at the sample server's IDs)"
