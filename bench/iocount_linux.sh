#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# iocount_linux.sh [N]: the per-I/O counters (docs/bench.md "Per-I/O
# counters") with Linux's own virtio_blk driver on a vfu-blk dma=fd disk:
# the kit's guest (tools/guest/tests/iocount.sh) reads N (default 1000)
# 4 KiB blocks with dd iflag=direct at QD1; minivmm's API stats and
# vfu-blk's counters are read at its IOCOUNT-READY and IOCOUNT-DONE lines
# and the differences printed. Not part of make bench: Linux boots in
# minutes on kvm_pvm (its kernel is emulated). The window also holds the
# guest's IOCOUNT-DONE line on the serial port (port-I/O exits).
: "${BUILD:=build}" "${KIT:=build/kit}"
n=${1:-1000}
[ -c /dev/kvm ] && [ -x "$BUILD/vfu-blk" ] && [ -f "$KIT/vmlinux" ] ||
    { echo "iocount_linux: needs /dev/kvm, $BUILD/vfu-blk, $KIT"; exit 77; }
dir=$(mktemp -d) || exit 1
srv= vm=
trap '[ -n "$vm" ] && kill "$vm"; [ -n "$srv" ] && kill "$srv"; rm -rf "$dir"' EXIT
truncate -s 64M "$dir/d.img"
"$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" \
    >"$dir/srv.log" 2>&1 &
srv=$!
i=0
until [ -S "$dir/s.sock" ]; do
    i=$((i + 1)); [ "$i" -le 100 ] || { echo "no vfu-blk socket"; exit 1; }
    sleep 0.1
done
"$BUILD/minivmm" --kernel "$KIT/vmlinux" --initrd "$KIT/initrd.cpio" \
    --cpus 1 --memory 512M --vfio-user "socket=$dir/s.sock" \
    --api-socket "$dir/api" --serial "file:$dir/out" \
    --cmdline "console=ttyS0 minivmm.test=iocount iocount.n=$n iocount.wait=10 $(tools/guest/host-cmdline.sh)" \
    </dev/null >"$dir/err" 2>&1 &
vm=$!
# snap MARKER K: at the guest's MARKER line, API stats to sK.json and
# vfu-blk's counter line K (SIGUSR1).
snap() {
    i=0
    until grep -q "$1" "$dir/out" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le 9000 ] || { echo "iocount_linux: no $1"; exit 1; }
        kill -0 "$vm" 2>/dev/null || {
            echo "iocount_linux: minivmm exited before $1; its messages and" \
                 "the guest's last lines (an old kit without tests/iocount.sh?" \
                 "run tools/guest/build-kit.sh):"
            cat "$dir/err"; tail -5 "$dir/out"; exit 1; }
        sleep 0.1
    done
    "$BUILD/minivmm-ctl" --json "$dir/api" stats >"$dir/s$2.json" || exit 1
    kill -USR1 "$srv"
    i=0
    until [ "$(grep -c requests= "$dir/srv.log")" -ge "$2" ]; do
        i=$((i + 1)); [ "$i" -le 100 ] || exit 1; sleep 0.1
    done
}
snap IOCOUNT-READY 1
snap IOCOUNT-DONE 2
python3 - "$dir" <<'PY'
import json, re, sys
d = sys.argv[1]
a, b = (json.load(open(f"{d}/s{k}.json"))["stats"] for k in (1, 2))
v = [dict((k, int(x)) for k, x in re.findall(r"(\w+)=(\d+)", l))
     for l in open(f"{d}/srv.log") if l.startswith("vfu-blk: requests=")]
ios = v[1]["requests"] - v[0]["requests"]
m = lambda s: sum(s["devices"][0]["vfio_user"]["messages"].values())
dv = lambda k: v[1][k] - v[0][k]
print(f"iocount linux dma=fd: ios {ios}: exits "
      + " ".join(f"{k} {b['exits'][k] - a['exits'][k]}" for k in a["exits"])
      + f"; vmm wakeups {sum(b['wakeups'].values()) - sum(a['wakeups'].values())}"
      f"; messages {m(b) - m(a)}; server: wakeups {dv('wakeups')}"
      f" doorbells_ioeventfd {dv('doorbells_ioeventfd')}"
      f" doorbells_region_write {dv('doorbells_region_write')}"
      f" irqs_msix {dv('irqs_msix')} dma_messages {dv('dma_messages')}")
PY
