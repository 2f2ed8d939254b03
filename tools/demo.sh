#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# minivmm's main job in one command (`make demo`): a Linux guest using a
# disk served by a separate vfio-user server process.
#
#   1. builds what is missing: build/minivmm, build/vfu-blk (make) and the
#      Linux guest kit (tools/guest/build-kit.sh, cached in build/kit;
#      the first kit build takes ~5 min on 2 cores, later runs ~1 s)
#   2. creates a 64 MiB scratch disk image and starts vfu-blk on it
#   3. boots the kit's Linux with that disk as a vfio-user PCI device
#   4. in the guest (tools/guest/tests/demo.sh): prints an lspci-style line
#      per PCI function, the disk's size and serial, writes a pattern and
#      reads it back past the page cache; the guest then powers off
#   5. prints vfu-blk's counters: ioeventfd doorbells, MSI-X interrupts,
#      DMA messages
#
# Usage: tools/demo.sh [--shell] [--verbose] [--keep] [--build DIR] [--kit DIR]
#   --shell     leave you at the guest's shell instead (`exit` powers off;
#               `sh /tests/demo.sh` runs the demo steps by hand)
#   --verbose   show the whole guest console, not only the demo's lines
#   --keep      keep the scratch directory (disk image, logs)
#   --build DIR build directory (default build, or $BUILD)
#   --kit DIR   guest kit directory (default BUILD/kit, or $KIT)
#   --no-kit-build  use the kit in DIR as it is (vmlinux, initrd.cpio with
#               /tests/demo.sh), do not run tools/guest/build-kit.sh
# The guest is stopped after DEMO_TIMEOUT seconds (default 900).
# Exit status: 0 the guest read back what it wrote, 1 otherwise, 2 usage.
# Works unchanged on hardware KVM and on kvm_pvm hosts (minivmm adds the
# kernel parameters such hosts need; booting takes ~1 min there when the
# host is idle).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
KIT=${KIT:-}
SHELL_MODE=0 VERBOSE=0 KEEP=0 KIT_BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --shell) SHELL_MODE=1 ;;
    --verbose) VERBOSE=1 ;;
    --keep) KEEP=1 ;;
    --build) BUILD=${2:?--build needs a directory}; shift ;;
    --kit) KIT=${2:?--kit needs a directory}; shift ;;
    --no-kit-build) KIT_BUILD=0 ;;
    -h|--help) sed -n '3,/^set -u$/p' "$0" | sed -e '/^set -u$/d' -e 's/^# \{0,1\}//'
               exit 0 ;;
    *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
KIT=${KIT:-$BUILD/kit}
say() { echo "demo: $*"; }
die() { echo "demo: ERROR: $*" >&2; exit 1; }

[ -e /dev/kvm ] || die "/dev/kvm does not exist (KVM is needed; is the kvm module loaded?)"
[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    die "/dev/kvm is not readable and writable by you (add yourself to group 'kvm')"
if [ ! -x "$BUILD/minivmm" ] || [ ! -x "$BUILD/vfu-blk" ]; then
    say "building minivmm and vfu-blk"
    make -j2 BUILD="$BUILD" "$BUILD/minivmm" "$BUILD/vfu-blk" >/dev/null ||
        die "make failed"
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-demo.XXXXXX") || exit 1
srv=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    if [ "$KEEP" = 1 ]; then say "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "$KIT_BUILD" = 1 ]; then
    if [ ! -f "$KIT/.kernel-stamp" ]; then
        say "building the Linux guest kit in $KIT (first time only: ~5 min on 2 cores)"
    fi
    # Unbuffered: the kit build's progress lines show as they come.
    { tools/guest/build-kit.sh --out "$KIT" 2>&1; echo $? > "$dir/kit.rc"; } | sed -u -n 's/^build-kit: /demo: kit: /p' |
        grep --line-buffered -v -e 'initrd.cpio' -e 'kernel up to date' -e ' done in ' \
            -e "demo: kit:   /"
    [ "$(cat "$dir/kit.rc")" = 0 ] ||
        die "building the guest kit failed (tools/guest/build-kit.sh --out $KIT)"
fi
[ -f "$KIT/vmlinux" ] && [ -f "$KIT/initrd.cpio" ] ||
    die "the guest kit was not built (tools/guest/build-kit.sh --out $KIT)"

truncate -s 64M "$dir/disk.img" || die "cannot create $dir/disk.img"
"$BUILD/vfu-blk" --socket-path="$dir/blk.sock" --disk "$dir/disk.img" \
    >"$dir/vfu-blk.log" 2>&1 &
srv=$!
i=0
while [ ! -S "$dir/blk.sock" ] && [ $i -lt 100 ] && kill -0 "$srv" 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
[ -S "$dir/blk.sock" ] || { cat "$dir/vfu-blk.log" >&2; die "vfu-blk did not start"; }
say "vfu-blk (pid $srv) serves a 64 MiB scratch disk image on $dir/blk.sock"

if [ "$SHELL_MODE" = 1 ]; then
    say "booting Linux; you get its shell ('sh /tests/demo.sh' runs the demo, 'exit' powers off)"
    "$BUILD/minivmm" --kernel "$KIT/vmlinux" --initrd "$KIT/initrd.cpio" \
        --cpus 1 --memory 256M --vfio-user socket="$dir/blk.sock",id=demo \
        --cmdline "console=ttyS0 quiet minivmm.test=shell"
    rc=$?
else
    if [ -d /sys/module/kvm_pvm ]; then slow=" (kvm_pvm host: ~1 min when idle)"; else slow=; fi
    cr=$(printf '\r')
    : > "$dir/console.log"
    say "booting Linux with that disk as a vfio-user PCI device$slow"
    { timeout -k 5 "${DEMO_TIMEOUT:-900}" "$BUILD/minivmm" --kernel "$KIT/vmlinux" \
          --initrd "$KIT/initrd.cpio" --cpus 1 --memory 256M \
          --vfio-user socket="$dir/blk.sock",id=demo \
          --cmdline "console=ttyS0 quiet minivmm.test=demo" </dev/null
      echo $? > "$dir/rc"; } 2>&1 |
    while IFS= read -r l; do
        l=${l%"$cr"}
        printf '%s\n' "$l" >> "$dir/console.log"
        case $l in
        DEMO-PCI\ *) echo "guest: lspci: ${l#DEMO-PCI }" ;;
        DEMO-DISK\ *) echo "guest: disk: ${l#DEMO-DISK }" ;;
        DEMO-READBACK\ *) echo "guest: read-back: ${l#DEMO-READBACK }" ;;
        minivmm:*) echo "$l" ;;
        *) [ "$VERBOSE" = 1 ] && echo "console: $l" ;;
        esac
    done
    rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
fi
kill -TERM "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=
say "guest stopped; minivmm exited $rc"
c=$(grep "requests=" "$dir/vfu-blk.log" | tail -n 1)
num() { echo "$c" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
echo "server: ioeventfd doorbells=$(num doorbells_ioeventfd)" \
     "trapped doorbells=$(num doorbells_region_write)" \
     "MSI-X interrupts=$(num irqs_msix) DMA messages=$(num dma_messages)" \
     "requests=$(num requests)"
echo "server: (DMA messages stay 0: guest RAM is shared with vfu-blk through" \
     "a file descriptor; --vfio-user ...,dma=message would use messages)"
[ "$SHELL_MODE" = 1 ] && exit 0
if [ "$rc" = 0 ] && grep -q "^DEMO-READBACK OK" "$dir/console.log"; then
    say "PASS: the guest wrote and read back its pattern through vfu-blk"
    exit 0
fi
tail -n 25 "$dir/console.log" | sed 's/^/console: /' >&2
die "the demo failed (minivmm exit $rc; see the console lines above)"
