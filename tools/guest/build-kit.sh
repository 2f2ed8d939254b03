#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Build the minivmm Linux guest kit from Debian packages:
#   OUT/vmlinux     uncompressed kernel with a PVH entry note (boot this one)
#   OUT/bzImage     the same kernel as bzImage (LZ4 if lz4 is installed,
#                   else gzip)
#   OUT/initrd.cpio uncompressed newc initramfs: busybox-static, /init
#                   (tools/guest/init.sh), /tests/*.sh (tools/guest/tests/)
#   OUT/System.map, OUT/kernel.config (the final .config)
#
# Kernel: Debian's linux-source-6.1, `make tinyconfig` + tools/guest/
# kernel.config, with tools/guest/*.patch applied (see pvm-syscall.patch for
# why). The source tree and object tree are cached under OUT; the kernel is
# rebuilt only when the fragment, a patch or the source package changes
# (their hash is the stamp OUT/.kernel-stamp). The initrd is regenerated on
# every run (about a second) and replaced only if it changed.
#
# Usage: tools/guest/build-kit.sh [--out DIR] [--stock] [--force] [-j N]
#   --out DIR  output directory (default build/kit)
#   --stock    no kernel build: take the stock Debian cloud kernel
#              (linux-image-cloud-amd64's /boot/vmlinuz-*-cloud-amd64) as
#              OUT/bzImage. Only for hosts with hardware KVM (VMX/SVM); it
#              cannot reach /init on kvm_pvm. Default OUT: build/kit-stock.
#   --force    rebuild the kernel even if the stamp matches
#   -j N       kernel build jobs (default 2)
# Dependencies: tools/setup.sh (linux-source-6.1 bc bison flex libelf-dev
# libssl-dev cpio busybox-static build-essential xz-utils).
set -eu

GUEST_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$GUEST_DIR/../.." && pwd)
OUT=
STOCK=0
FORCE=0
JOBS=2
TARBALL=/usr/src/linux-source-6.1.tar.xz
SRCNAME=linux-source-6.1

while [ $# -gt 0 ]; do
    case $1 in
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --stock) STOCK=1; shift ;;
    --force) FORCE=1; shift ;;
    -j) JOBS=${2:?-j needs a number}; shift 2 ;;
    -j*) JOBS=${1#-j}; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e '/SPDX-License-Identifier/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-kit: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$OUT" ]; then
    if [ "$STOCK" = 1 ]; then OUT=$ROOT/build/kit-stock; else OUT=$ROOT/build/kit; fi
fi
if [ "$STOCK" = 1 ]; then
    STOCK_KERNEL=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$STOCK_KERNEL" ] || {
        echo "build-kit: ERROR: --stock: no /boot/vmlinuz-*-cloud-amd64;" \
             "apt-get install linux-image-cloud-amd64" >&2
        exit 1
    }
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$OUT/$SRCNAME
OBJ=$OUT/obj
T0=$(date +%s)

say() { echo "build-kit: $*" >&2; }
die() { echo "build-kit: ERROR: $*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - T0 ))s"; }

# One build at a time per output directory (tests may call us in parallel).
exec 9>"$OUT/.lock"
if ! flock -n 9; then
    say "waiting for another build-kit.sh using $OUT"
    flock 9
fi

need() {
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 ||
            die "'$t' not found; run tools/setup.sh"
    done
}
need cc make sha256sum flock cmp
[ -x /bin/busybox ] && /bin/busybox --list-full >/dev/null 2>&1 ||
    die "/bin/busybox (busybox-static) not found; run tools/setup.sh"
file_is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q INTERP; }
file_is_static /bin/busybox ||
    die "/bin/busybox is dynamically linked; install busybox-static"

# ---------------------------------------------------------------- kernel ---
# Files whose content decides the kernel; their hash is the stamp.
PATCHES=$(ls "$GUEST_DIR"/*.patch 2>/dev/null | LC_ALL=C sort || true)
# Host-dependent addition to the fragment: the bzImage decompresses much
# faster in the guest with LZ4 than with gzip, but LZ4 needs the lz4 tool.
HOST_FRAGMENT=$OUT/host.config
if command -v lz4 >/dev/null 2>&1; then
    printf '%s\n' "CONFIG_KERNEL_LZ4=y" "# CONFIG_KERNEL_GZIP is not set" > "$HOST_FRAGMENT"
else
    : > "$HOST_FRAGMENT"
fi
# The fragment applied and checked: kernel.config, with host.config's
# options replacing its own.
FRAGMENT=$OUT/fragment.config
{
    opts=$(sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p' \
                  -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p' "$HOST_FRAGMENT")
    if [ -n "$opts" ]; then
        grep -v -w -F "$opts" "$GUEST_DIR/kernel.config" || true
    else
        cat "$GUEST_DIR/kernel.config"
    fi
    echo "# --- host.config (written by build-kit.sh)"
    cat "$HOST_FRAGMENT"
} > "$FRAGMENT"
# A patch's content without its SPDX line (a licence tag rebuilds nothing;
# patch(1) ignores the line, like the rest of the header).
patch_body() { cat "$@" | grep -v '^SPDX-License-Identifier:'; }
# Only the settings count (editing a comment in kernel.config rebuilds nothing).
kernel_stamp() {
    {
        echo "tarball $(stat -c '%s %Y' "$TARBALL")"
        grep -E '^CONFIG_|^# CONFIG_[A-Za-z0-9_]* is not set$' "$FRAGMENT"
        for p in $PATCHES; do
            echo "$(patch_body "$p" | sha256sum | cut -d' ' -f1)  ${p#"$GUEST_DIR"/}"
        done
    } | sha256sum | cut -d' ' -f1
}

# Options that must come out of olddefconfig as stated (beyond the fragment,
# all of whose lines are checked too). Failure here means the kernel could
# not reach /init or power off under minivmm, or would be needlessly slow.
MUST_Y="64BIT SMP PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD
    DEVTMPFS PCI PCI_MSI VIRTIO VIRTIO_PCI VIRTIO_BLK VIRTIO_NET VIRTIO_CONSOLE
    HW_RANDOM_VIRTIO HYPERVISOR_GUEST PARAVIRT KVM_GUEST PVH ACPI
    ACPI_SYSTEM_POWER_STATES_SUPPORT BINFMT_ELF BINFMT_SCRIPT PROC_FS SYSFS
    TMPFS NET INET UNIX NETDEVICES"
MUST_N="VT LEGACY_PTYS PTP_1588_CLOCK_KVM IA32_EMULATION X86_X32_ABI
    RANDOMIZE_BASE MODULES"
# Fragment lines that may legitimately be absent from the final .config
# because their menu is off (no crypto at all means no self-tests either).
OPTIONAL="CONFIG_CRYPTO_MANAGER_DISABLE_TESTS"

check_config() {
    cfg=$1
    bad=$OUT/.config-mismatch
    : > "$bad"
    for o in $MUST_Y; do
        grep -qx "CONFIG_$o=y" "$cfg" || echo "CONFIG_$o: want y" >> "$bad"
    done
    for o in $MUST_N; do
        if grep -q "^CONFIG_$o=" "$cfg"; then echo "CONFIG_$o: want n" >> "$bad"; fi
    done
    # Crypto self-tests run at boot (slow when emulated): off if any crypto.
    if grep -q '^CONFIG_CRYPTO_MANAGER=y' "$cfg" &&
       ! grep -qx 'CONFIG_CRYPTO_MANAGER_DISABLE_TESTS=y' "$cfg"; then
        echo "CONFIG_CRYPTO_MANAGER_DISABLE_TESTS: want y" >> "$bad"
    fi
    # Every line of the fragment must hold in the final .config.
    while IFS= read -r line; do
        case $line in
        CONFIG_*=*)
            o=${line%%=*}
            got=$(sed -n "s/^$o=//p" "$cfg")
            if [ -z "$got" ] && echo " $OPTIONAL " | grep -q " $o "; then
                continue
            fi
            [ "$got" = "${line#*=}" ] ||
                echo "$o: want ${line#*=}, got ${got:-n}" >> "$bad" ;;
        "# CONFIG_"*" is not set")
            o=${line#\# }; o=${o%% *}
            if grep -q "^$o=" "$cfg"; then
                echo "$o: want n, got $(sed -n "s/^$o=//p" "$cfg")" >> "$bad"
            fi ;;
        esac
    done < "$FRAGMENT"
    if [ -s "$bad" ]; then
        echo "build-kit: ERROR: the final kernel .config ($cfg) does not match:" >&2
        sed 's/^/build-kit:   /' "$bad" >&2
        echo "build-kit: fix tools/guest/kernel.config (a dependency or a select" \
             "overrides it)" >&2
        rm -f "$bad"
        return 1
    fi
    rm -f "$bad"
}

extract_source() {
    [ -r "$TARBALL" ] || die "$TARBALL missing; run tools/setup.sh (linux-source-6.1)"
    say "extracting $TARBALL ($(elapsed))"
    rm -rf "$SRC" "$OUT/.src.tmp" "$OBJ"
    mkdir -p "$OUT/.src.tmp"
    tar -xJf "$TARBALL" -C "$OUT/.src.tmp"
    mv "$OUT/.src.tmp/$SRCNAME" "$SRC"
    rmdir "$OUT/.src.tmp"
    touch "$SRC/.minivmm-extracted"
}

# Source tree: extracted once; re-extracted when the set of patches changes
# (the patches are applied to pristine source only).
prepare_source() {
    phash=$(patch_body /dev/null $PATCHES | sha256sum | cut -d' ' -f1)
    if [ ! -f "$SRC/.minivmm-extracted" ]; then
        extract_source
    elif [ -f "$SRC/.minivmm-patched" ] &&
         [ "$(cat "$SRC/.minivmm-patched")" != "$phash" ]; then
        say "patches changed: re-extracting the source"
        extract_source
    fi
    if [ ! -f "$SRC/.minivmm-patched" ]; then
        for p in $PATCHES; do
            say "applying $(basename "$p")"
            patch -d "$SRC" -p1 --forward --no-backup-if-mismatch -s < "$p" || {
                rm -f "$SRC/.minivmm-extracted"   # re-extract next time
                die "patch $p does not apply to $SRCNAME"
            }
        done
        echo "$phash" > "$SRC/.minivmm-patched"
    fi
}

# The kernel compile, with a progress line every 15 s: files compiled so
# far (the log's "CC" lines) out of the previous build's count (~1100 for
# this configuration on a first build). Returns make's status.
compile_with_progress() {
    log=$1
    total=$(cat "$OUT/.kernel-ccount" 2>/dev/null || echo 1100)
    make -C "$SRC" O="$OBJ" -j"$JOBS" vmlinux bzImage >> "$log" 2>&1 &
    mk=$!
    ticks=0
    while kill -0 "$mk" 2>/dev/null; do
        sleep 1
        ticks=$((ticks + 1))
        [ $((ticks % 15)) -eq 0 ] || continue
        n=$(grep -c '^  CC ' "$log" || true)
        pct=$((n * 100 / total)); [ "$pct" -le 99 ] || pct=99
        say "compiling: $n of ~$total files (~$pct%) ($(elapsed))"
    done
    wait "$mk" || return 1
    grep -c '^  CC ' "$log" > "$OUT/.kernel-ccount" || true
}

build_kernel() {
    log=$OUT/kernel-build.log
    prepare_source
    mkdir -p "$OBJ"
    say "configuring: tinyconfig + kernel.config ($(elapsed))"
    {
        make -C "$SRC" O="$OBJ" tinyconfig
        (cd "$OBJ" && "$SRC/scripts/kconfig/merge_config.sh" -m .config \
            "$FRAGMENT")
        make -C "$SRC" O="$OBJ" olddefconfig
    } > "$log" 2>&1 || { tail -n 30 "$log" >&2; die "kernel configuration failed (log: $log)"; }
    check_config "$OBJ/.config" || exit 1
    say "config verified; compiling vmlinux + bzImage with -j$JOBS (~5 min on 2 cores; log: $log) ($(elapsed))"
    if ! compile_with_progress "$log"; then
        grep -E -B2 -A8 'error:|Error [0-9]' "$log" | tail -n 40 >&2 || tail -n 40 "$log" >&2
        die "kernel build failed (log: $log)"
    fi
    grep -q ' entry_SYSCALL_64$' "$OBJ/System.map" ||
        die "entry_SYSCALL_64 missing from System.map"
    for f in vmlinux System.map .config arch/x86/boot/bzImage; do
        [ -f "$OBJ/$f" ] || die "kernel build produced no $f"
    done
    cp "$OBJ/vmlinux" "$OUT/.vmlinux.tmp" && mv "$OUT/.vmlinux.tmp" "$OUT/vmlinux"
    cp "$OBJ/arch/x86/boot/bzImage" "$OUT/.bzImage.tmp" && mv "$OUT/.bzImage.tmp" "$OUT/bzImage"
    cp "$OBJ/System.map" "$OUT/System.map"
    cp "$OBJ/.config" "$OUT/kernel.config"
    echo "$stamp" > "$OUT/.kernel-stamp"
    say "kernel built: $(sed -n "s/^# Linux\/x86 \([^ ]*\) Kernel Configuration/Linux \1/p" "$OUT/kernel.config") ($(elapsed))"
}

if [ "$STOCK" = 1 ]; then
    k=$STOCK_KERNEL
    say "stock kernel: $k (hardware KVM only; modules are not in the initrd)"
    cp "$k" "$OUT/bzImage"
    rm -f "$OUT/vmlinux" "$OUT/.kernel-stamp"
    map=/boot/System.map-${k#/boot/vmlinuz-}
    if [ -r "$map" ]; then cp "$map" "$OUT/System.map"; else rm -f "$OUT/System.map"; fi
else
    need bc bison flex patch tar xz gzip perl
    stamp=$(kernel_stamp)
    if [ "$FORCE" = 0 ] && [ -f "$OUT/vmlinux" ] && [ -f "$OUT/bzImage" ] &&
       [ -f "$OUT/System.map" ] && [ -f "$OUT/.kernel-stamp" ] &&
       [ "$(cat "$OUT/.kernel-stamp")" = "$stamp" ]; then
        check_config "$OUT/kernel.config" || exit 1
        say "kernel up to date ($OUT/vmlinux)"
    else
        build_kernel
    fi
fi

# ---------------------------------------------------------------- initrd ---
say "building initrd.cpio ($(elapsed))"
STAGE=$OUT/initrd.stage
rm -rf "$STAGE"
mkdir -p "$STAGE"

# gen_init_cpio (from the kernel source; plain C, no kernel config needed)
# writes device nodes and root-owned files without root or fakeroot.
GEN=$OUT/gen_init_cpio
GEN_SRC=$SRC/usr/gen_init_cpio.c
if [ ! -f "$GEN_SRC" ]; then
    if [ ! -x "$GEN" ]; then
        [ -f "$SRC/.minivmm-extracted" ] || extract_source
    fi
fi
if [ ! -x "$GEN" ] || { [ -f "$GEN_SRC" ] && [ "$GEN_SRC" -nt "$GEN" ]; }; then
    cc -O2 -o "$GEN" "$GEN_SRC"
fi

# The patch self-test (freestanding static binary, see pvm-selftest.c).
cc -static -nostdlib -ffreestanding -fno-tree-loop-distribute-patterns \
    -fno-stack-protector -fno-pie -no-pie -mno-red-zone -O2 \
    -o "$STAGE/pvm-selftest" "$GUEST_DIR/pvm-selftest.c"
entry=
if [ -f "$OUT/System.map" ]; then
    entry=$(sed -n 's/^\([0-9a-f]*\) T entry_SYSCALL_64$/\1/p' "$OUT/System.map")
fi
echo "${entry:-0}" > "$STAGE/entry_SYSCALL_64"
# gen_init_cpio records a file's own mtime: pin the generated ones.
touch -d @0 "$STAGE/pvm-selftest" "$STAGE/entry_SYSCALL_64"

INITRD_LINKS="/bin/sh /bin/ash /sbin/init /sbin/poweroff /sbin/reboot"
if ! env -i PATH=/nonexistent /bin/busybox sh -c 'awk "BEGIN { exit 0 }"' \
        >/dev/null 2>&1; then
    say "this busybox's shell is not standalone: linking every applet"
    INITRD_LINKS=$(/bin/busybox --list-full | sed 's|^|/|' | grep -vx /bin/busybox)
fi
LIST=$STAGE/cpio.list
{
    echo "dir /dev 0755 0 0"
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "nod /dev/null 0666 0 0 c 1 3"
    echo "nod /dev/ttyS0 0660 0 0 c 4 64"
    for d in /bin /sbin /usr /usr/bin /usr/sbin /proc /sys /tmp /run /root \
             /etc /etc/minivmm /tests /mnt; do
        echo "dir $d 0755 0 0"
    done
    echo "file /bin/busybox /bin/busybox 0755 0 0"
    # Debian's busybox-static shell is "standalone": it runs busybox applets
    # by name without links (and busybox applets exec applets the same way).
    # So only the links needed by exec-by-path users; each of the ~400 others
    # would cost emulated kernel time while the initramfs is unpacked.
    for a in $INITRD_LINKS; do
        echo "slink $a /bin/busybox 0777 0 0"
    done
    echo "file /init $GUEST_DIR/init.sh 0755 0 0"
    echo "file /etc/fstab $GUEST_DIR/fstab 0644 0 0"
    echo "file /bin/pvm-selftest $STAGE/pvm-selftest 0755 0 0"
    echo "file /etc/minivmm/entry_SYSCALL_64 $STAGE/entry_SYSCALL_64 0644 0 0"
    for t in "$GUEST_DIR"/tests/*.sh; do
        [ -f "$t" ] || continue
        echo "file /tests/$(basename "$t") $t 0755 0 0"
    done
} > "$LIST"
# Fixed timestamp: the same inputs give the same bytes.
"$GEN" -t 0 "$LIST" > "$STAGE/initrd.cpio"
if [ -f "$OUT/initrd.cpio" ] && cmp -s "$STAGE/initrd.cpio" "$OUT/initrd.cpio"; then
    say "initrd.cpio unchanged"
else
    mv "$STAGE/initrd.cpio" "$OUT/initrd.cpio"
    say "initrd.cpio written ($(( $(stat -c %s "$OUT/initrd.cpio") / 1024 )) KiB)"
fi
rm -rf "$STAGE"

say "done in $(elapsed):"
for f in vmlinux bzImage initrd.cpio; do
    [ -f "$OUT/$f" ] && say "  $OUT/$f"
done
exit 0
