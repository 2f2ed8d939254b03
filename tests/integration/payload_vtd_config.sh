#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# --viommu intel's options and start-up checks (docs/viommu.md): bad
# options and what the VT-d unit does not combine with are refused before
# the guest starts (exit 2, one line saying why: caching-mode=off, an
# aw-bits other than 39/48, iommu=off on a device, --cpus above 255); a
# vfu-blk presenting a 39-bit IOVA width (--iova-bits 39) is refused under
# the default aw-bits=48 ("aw-bits 48 > host aw-bits 39", naming the
# device) and accepted under aw-bits=39, where the virtio payload's
# virtio-blk driver works on it and on an in-VMM disk (translation off:
# the identity map). The API's config prints the option back, its stats
# validate against docs/stats.schema.json with the unit's entry, and
# device-add is refused.
: "${BUILD:=build}"
name=payload_vtd_config
. "$(dirname "$0")/lib.sh"
need_kvm
need_bins vfu-blk minivmm-ctl
dir=$(mktemp -d) || exit 1
srv=
vm=
cleanup() {
    [ -n "$vm" ] && kill "$vm" 2>/dev/null
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
K="$BUILD/guest/virtio.elf"
truncate -s 1M "$dir/d.img" "$dir/v.img"

refused() { # want-in-message minivmm-args...
    want=$1; shift
    "$BUILD/minivmm" --kernel "$K" --serial file:"$dir/serial" "$@" \
        </dev/null >"$dir/out" 2>"$dir/err"
    rc=$?
    [ "$rc" -eq 2 ] || { cat "$dir/err"; fail "$* exited $rc, want 2"; }
    grep -q -- "$want" "$dir/err" ||
        { cat "$dir/err"; fail "$*: no '$want' in the refusal"; }
    [ ! -s "$dir/serial" ] || fail "$*: the guest ran"
}
refused "caching mode is always on" --viommu intel,caching-mode=off
refused "aw-bits=39|48" --viommu intel,aw-bits=57
refused "models are" --viommu amd
refused "INCLUDE_PCI_ALL" --viommu intel --disk path="$dir/d.img",iommu=off
refused "cpus" --viommu intel --cpus 256

# A 39-bit server: refused under aw-bits=48, before the guest starts.
"$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/v.img" \
    --iova-bits 39 >"$dir/srv.log" 2>&1 &
srv=$!
for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
[ -S "$dir/s.sock" ] || fail "vfu-blk did not create its socket"
refused "aw-bits 48 > host aw-bits 39" --memory 256M --viommu intel \
    --vfio-user socket="$dir/s.sock",id=blk0
grep "aw-bits 48 > host aw-bits 39" "$dir/err" | grep -q "blk0" ||
    fail "the refusal does not name blk0"
kill "$srv"; wait "$srv" 2>/dev/null
rm -f "$dir/s.sock"
"$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/v.img" \
    --iova-bits 39 >"$dir/srv.log" 2>&1 &
srv=$!
for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done

# aw-bits=39: accepted; both disks work with translation off.
: >"$dir/serial"
"$BUILD/minivmm" --kernel "$K" --memory 256M --viommu intel,aw-bits=39 \
    --disk path="$dir/d.img" --vfio-user socket="$dir/s.sock",id=blk0 \
    --api-socket "$dir/api" --serial file:"$dir/serial" \
    --cmdline "test=vblk-count ticks=100000 blocks=16" \
    </dev/null >"$dir/out" 2>"$dir/err" &
vm=$!
i=0
until tr -d '\r' <"$dir/serial" | grep -q "^counter: tick 1 "; do
    i=$((i + 1))
    [ "$i" -gt 600 ] && { cat "$dir/err"; tr -d '\r' <"$dir/serial";
                          fail "the guest does not count"; }
    kill -0 "$vm" 2>/dev/null || { cat "$dir/err"; fail "minivmm exited"; }
    sleep 0.1
done
ctl() { "$BUILD/minivmm-ctl" "$dir/api" "$@"; }
ctl config | grep -q "intel,aw-bits=39,caching-mode=on" ||
    fail "config does not print --viommu back"
ctl stats >"$dir/stats.json" || fail "stats failed"
if ctl device-add disk path="$dir/d.img",id=hot >"$dir/add.out" 2>&1; then
    fail "device-add succeeded under --viommu intel"
fi
grep -q "not with --viommu intel" "$dir/add.out" ||
    { cat "$dir/add.out"; fail "device-add refused without the reason"; }
ctl quit >/dev/null
wait "$vm"
vm=
python3 - "$dir/stats.json" docs/stats.schema.json <<'EOT' || fail "stats"
import json, sys
st = json.load(open(sys.argv[1]))
st = st.get("stats", st.get("result", st))
try:
    import jsonschema
except ImportError:
    jsonschema = None
if jsonschema:
    try:
        jsonschema.validate(st, json.load(open(sys.argv[2])))
    except jsonschema.ValidationError as e:
        sys.exit(f"stats do not match the schema: {e.message}")
kinds = [d["kind"] for d in st["devices"]]
assert "intel-iommu" in kinds and "virtio-iommu" not in kinds, kinds
EOT
echo "$name: option errors refused, aw-bits 48 over a 39-bit server" \
     "refused naming it, aw-bits=39 boots with both disks; config, stats," \
     "device-add refused"
