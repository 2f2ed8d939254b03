# SPDX-License-Identifier: BSD-3-Clause
# The vIOMMU integration tests' helpers (payload_viommu_*.sh,
# payload_vtd_*.sh, payload_{migrate,snapshot}_viommu.sh), sourced after
# lib.sh; the functions that use $dir want make_dir first. Functions only:
#   viommu_pick STEM [END] from $VIOMMU (virtio, the default, or intel):
#                          $name STEM_viommuEND or STEM_vtdEND, $unit the virtio
#                          payload's test of the unit and its confine option
#                          (viommu or vtd), $sector what the test writes at
#                          the start of sector N ("VIOMMU sector" or "VTD
#                          sector"); exit 2 on another VIOMMU
#   confined_vm            (after make_dir, with lib_vfio.sh's srv1 on
#                          $dir/disk.img) the virtio payload counting 30
#                          ticks and writing 64 blocks with the disk
#                          confined by the unit ($dir/out1, $dir/err1, API
#                          socket $dir/api1, pid in $vm); fail unless it
#                          counts and says it confined the disk
#   need_viommu            exit 77 unless minivmm has --viommu $VIOMMU
#                          (virtio is always there)
#   fresh_disk             $dir/d.img: 1 MiB of zeros
#   blk_srv [OPTS]         (re)start the one vfu-blk (with OPTS) on
#                          $dir/s.sock over a new 1 MiB $dir/d.img, output
#                          in $dir/srv.log, pid in $srv; the one before is
#                          stopped first
#   blk_vm VIOMMU KERNEL CMDLINE  minivmm (256 MiB) with --viommu VIOMMU,
#                          $BUILD/guest/KERNEL and that vfu-blk as device
#                          blk0; serial in $dir/serial, stdout in $dir/out,
#                          stderr in $dir/err; returns its exit status
#   disk_vm MEM VIOMMU DISK CMDLINE  minivmm (MEM of RAM) with --viommu
#                          VIOMMU and an in-VMM disk on $dir/d.img (DISK:
#                          more --disk options, e.g. ",iommu=off"), the
#                          virtio payload with CMDLINE; all output in
#                          $dir/out; returns its exit status
#   passes RC FILE TEST [WHO]  print FILE (CRs dropped); fail unless RC is
#                          0 and FILE has the line "PASS TEST"
#   refused_blk0 WHAT RC RE WORDS...  the blk_vm WHAT, which exited RC,
#                          was refused: RC 2, one line of $dir/err matching
#                          RE, holding each WORD; the guest did not run
#   sectors_hold [WHO]     sectors 0-2 of $dir/d.img start with
#                          "$sector N"; else fail, WHO before the message
#   unit_stats VIOMMU CMDLINE ASSERT  a guest with --viommu VIOMMU and an
#                          in-VMM disk on $dir/d.img runs CMDLINE until its
#                          first tick; the API's stats validate against
#                          docs/stats.schema.json and the entry of kind
#                          VIOMMU-iommu (its "iommu" object: io) makes the
#                          Python expression ASSERT true
viommu_pick() { # STEM [END]
    : "${VIOMMU:=virtio}"
    case "$VIOMMU" in
    virtio) name=$1_viommu${2:-} unit=viommu sector="VIOMMU sector" ;;
    intel)  name=$1_vtd${2:-} unit=vtd sector="VTD sector" ;;
    *)      echo "VIOMMU=$VIOMMU: virtio or intel" >&2; exit 2 ;;
    esac
}
confined_vm() {
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --viommu "$VIOMMU" --vfio-user "socket=$dir/srv1.sock,id=blk" \
        --cmdline "test=vblk-count $unit=1 ticks=30 tick_ms=100 blocks=64" \
        --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
    vm=$!
    pids="$pids $vm"
    wait_for "$dir/out1" "^counter: tick 3 " 30 ||
        { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
    marker="confined, data at IOVA 0x7f0000000000"
    [ "$VIOMMU" = intel ] && marker="^vtd: endpoint .* $marker"
    has "$dir/out1" "$marker" || fail "the guest did not confine the disk"
}
need_viommu() {
    [ "$VIOMMU" = virtio ] || "$BUILD/minivmm" --help 2>&1 | grep -qw "$VIOMMU" ||
        { echo "$name: minivmm has no --viommu $VIOMMU" >&2; exit 77; }
}
fresh_disk() { truncate -s 0 "$dir/d.img"; truncate -s 1M "$dir/d.img"; }
blk_srv() {     # [vfu-blk options]
    [ -n "${srv:-}" ] && { kill "$srv"; wait "$srv" 2>/dev/null; }
    rm -f "$dir/s.sock"
    fresh_disk
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" "$@" \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    pids="$pids $srv"
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk did not create its socket"
}
blk_vm() {      # VIOMMU KERNEL CMDLINE
    rm -f "$dir/serial"
    "$BUILD/minivmm" --kernel "$BUILD/guest/$2" --memory 256M \
        --serial file:"$dir/serial" --viommu "$1" \
        --vfio-user socket="$dir/s.sock",id=blk0 --cmdline "$3" \
        </dev/null >"$dir/out" 2>"$dir/err"
}
disk_vm() {     # MEM VIOMMU DISK-OPTIONS CMDLINE
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory "$1" \
        --viommu "$2" --disk path="$dir/d.img$3" --cmdline "$4" \
        </dev/null >"$dir/out" 2>&1
}
passes() {      # RC FILE TEST [WHO]
    tr -d '\r' <"$2"
    [ "$1" -eq 0 ] || fail "${4:+$4: }minivmm exited $1, want 0"
    has "$2" -x "PASS $3" || fail "${4:+$4: }no 'PASS $3'"
}
refused_blk0() { # WHAT RC REGEX WORDS...
    cat "$dir/err"
    [ "$2" -eq 2 ] || fail "$1 exited $2, want 2"
    line=$(grep "$3" "$dir/err")
    shift 3
    [ "$(echo "$line" | wc -l)" -eq 1 ] || fail "want one line naming blk0"
    for w in "$@"; do
        echo "$line" | grep -q -- "$w" || fail "refusal does not say '$w'"
    done
    [ ! -s "$dir/serial" ] || fail "the guest ran before the refusal"
}
sectors_hold() { # [WHO]
    for s in 0 1 2; do
        got=$(dd if="$dir/d.img" bs=512 skip=$s count=1 2>/dev/null |
              head -c $((${#sector} + 2)))
        [ "$got" = "$sector $s" ] ||
            fail "${1:+$1: }sector $s of the host file holds '$got'"
    done
}
unit_stats() {  # VIOMMU CMDLINE ASSERT
    rm -f "$dir/api" "$dir/stats.out"
    "$BUILD/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --viommu "$1" --disk path="$dir/d.img" --api-socket "$dir/api" \
        --cmdline "$2" --serial "file:$dir/stats.out" </dev/null \
        >"$dir/stats.err" 2>&1 &
    vm=$!
    pids="$pids $vm"
    wait_for "$dir/stats.out" "^counter: tick 1 " 20 ||
        { cat "$dir/stats.out" "$dir/stats.err"; fail "the guest does not count"; }
    ctl "$dir/api" stats >"$dir/stats.json" || fail "stats failed"
    kill "$vm"; wait "$vm" 2>/dev/null
    python3 - "$dir/stats.json" docs/stats.schema.json "$1-iommu" "$3" \
        <<'EOT' || fail "stats"
import json, sys
st = json.load(open(sys.argv[1]))
st = st.get("result", st)
try:
    import jsonschema
    jsonschema.validate(st, json.load(open(sys.argv[2])))
except ImportError:
    pass
io = [d for d in st["devices"] if d["kind"] == sys.argv[3]][0]["iommu"]
print(sys.argv[3], "stats:", io)
assert eval("(%s)" % sys.argv[4], {"io": io}), io
EOT
}
