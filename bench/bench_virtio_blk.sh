#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# virtio-blk through its three paths, side by side in one run: the in-VMM
# disk (--disk), vfu-blk with guest RAM shared by fd (dma=fd) and vfu-blk
# with every guest-memory access a DMA_READ/WRITE message (dma=message).
# The guest is the virtio payload's polling driver (bench-vblk in
# tests/guest/virtio/bench_vblk.c), SECS seconds per row:
#   4 KiB random reads at queue depth 1 and 32 (IOPS),
#   128 KiB sequential reads at depth 8 (MB/s),
# on a 256 MiB file written beforehand (page cache: this measures the
# device path, not the disk). The three configurations run back to back,
# REPS rounds (default 3), and the table shows medians and the ratio to
# the in-VMM disk. Numbers, not assertions. RAW=1 also prints each run.
# CONFIGS="in-VMM vfu-msg" runs only those configurations (default all
# three; a column not run shows 0); ROWS=MASK only some rows (bit 0 QD1,
# bit 1 QD32, bit 2 sequential; default 7). With RAW=1, each vfu-blk
# run's DMA round trips per request (its counters: all rows of the run).
: "${BUILD:=build}" "${SECS:=2}" "${REPS:=3}" "${ROWS:=7}"
: "${CONFIGS:=in-VMM vfu-fd vfu-msg}"
payload=$BUILD/guest/virtio.elf
[ -f "$payload" ] || { echo "no $payload (make guest)"; exit 1; }
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "no usable /dev/kvm: skipped"; exit 0; }
dir=$(mktemp -d) || exit 1
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
dd if=/dev/zero of="$dir/disk.img" bs=1M count=256 status=none

start_srv() {
    rm -f "$dir/s.sock"
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/disk.img" \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && return 0; sleep 0.1; done
    echo "bench_virtio_blk: vfu-blk did not start"; exit 1
}

# run NAME DEVICE-OPTIONS...: one VM, its BENCH lines as "NAME row value"
run() {
    name=$1; shift
    "$BUILD/minivmm" --kernel "$payload" --memory 256M "$@" \
        --cmdline "test=bench-vblk bench-secs=$SECS bench-rows=$ROWS" \
        </dev/null >"$dir/out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        tr -d '\r' <"$dir/out"
        echo "bench_virtio_blk: minivmm ($name) exited $rc"
        exit 1
    fi
    tr -d '\r' <"$dir/out" | awk -v n="$name" '/^BENCH /{print n, $2, $3}'
}

run_vfu() {
    start_srv
    run "$1" --vfio-user "socket=$dir/s.sock$2"
    kill "$srv"; wait "$srv" 2>/dev/null; srv=
    [ -n "$RAW" ] && tr ' ' '\n' <"$dir/srv.log" | awk -F= -v n="$1" '
        $1 == "requests" { q = $2 } $1 == "dma_rounds" { d = $2 }
        $1 == "dma_messages" { m = $2 }
        END { if (q) printf "# %s: %d requests, %.2f DMA messages and " \
              "%.2f round trips per request\n", n, q, m / q, d / q }' >&2
}

want() { case " $CONFIGS " in *" $1 "*) return 0 ;; esac; return 1; }

for r in $(seq "$REPS"); do
    want in-VMM && run in-VMM --disk path="$dir/disk.img"
    want vfu-fd && run_vfu vfu-fd ""
    want vfu-msg && run_vfu vfu-msg ",dma=message"
done >"$dir/all"
[ -n "$RAW" ] && cat "$dir/all"

# Medians per (configuration, row); table rows in bench order.
awk '
function median(k,   n, i, j, t, a) {
    n = cnt[k]
    for (i = 1; i <= n; i++) a[i] = v[k, i]
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
    k = $1 SUBSEP $2
    v[k, ++cnt[k]] = $3
    if (!($2 in seen)) { seen[$2] = 1; rows[++nr] = $2; unit[$2] = "" }
}
END {
    printf "%-28s %10s %10s %10s %7s %7s  (medians of %d)\n", "virtio-blk",
           "in-VMM", "vfu-fd", "vfu-msg", "fd/VMM", "msg/VMM", cnt["in-VMM" SUBSEP rows[1]]
    for (i = 1; i <= nr; i++) {
        r = rows[i]
        a = median("in-VMM" SUBSEP r); b = median("vfu-fd" SUBSEP r)
        c = median("vfu-msg" SUBSEP r)
        printf "%-28s %10d %10d %10d %7.2f %7.2f\n", r, a, b, c,
               a ? b / a : 0, a ? c / a : 0
    }
}' "$dir/all"
echo "(units: randread rows IOPS, seqread row MB/s)"
