#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 900
# Linux guest boot: the kit's vmlinux (PVH) + initrd.cpio under minivmm with
# 2 vCPUs and 512 MiB. /init (tools/guest/init.sh) prints markers on the
# serial console; checks: /init reached, 2 CPUs, MemTotal plausible for
# 512 MiB, the boot test ran, and minivmm exits 0 (ACPI power-off).
#
# Builds the kit first if needed (tools/guest/build-kit.sh; ~5 min the first
# time, about a second when cached). Exit 0 pass, 77 skip, else fail.
#
# Environment: BUILD (default build): where minivmm is; KIT (default
# build/kit): the kit directory; LINUX_BOOT_CMDLINE: extra kernel
# parameters (tools/guest/host-cmdline.sh adds what this host needs); LINUX_BOOT_TIMEOUT (default 300): seconds before giving up.
# The serial log is kept in $BUILD/linux_boot.log.
: "${BUILD:=build}"
: "${KIT:=build/kit}"
: "${LINUX_BOOT_TIMEOUT:=300}"
name=linux_boot

skip() { echo "$name: SKIP: $*" >&2; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }

[ -e /dev/kvm ] || skip "/dev/kvm missing"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not accessible"
[ -x "$BUILD/minivmm" ] || fail "$BUILD/minivmm not built (make $BUILD/minivmm)"

# The kit: build-kit.sh is a no-op when up to date (stamped, ~1 s).
tools/guest/build-kit.sh --out "$KIT" ||
    fail "tools/guest/build-kit.sh failed"
for f in vmlinux initrd.cpio; do
    [ -f "$KIT/$f" ] || fail "$KIT/$f missing after build-kit.sh"
done

# Host quirks (kvm_pvm: CPU features the guest must not use).
hostargs=$(tools/guest/host-cmdline.sh)
log=$BUILD/$name.log
events=$(mktemp)
trap 'rm -f "$events"' EXIT INT TERM
: > "$log"

echo "$name: booting $KIT/vmlinux (log: $log)${hostargs:+; host needs: $hostargs}" >&2
cr=$(printf '\r')
start=$(date +%s)
# Read the console line by line as it comes; note when each marker shows up.
# The last line of the pipe is minivmm's exit status.
{
    timeout -k 5 "$LINUX_BOOT_TIMEOUT" "$BUILD/minivmm" \
        --kernel "$KIT/vmlinux" --initrd "$KIT/initrd.cpio" \
        --cpus 2 --memory 512M \
        --cmdline "console=ttyS0 minivmm.test=boot $hostargs ${LINUX_BOOT_CMDLINE:-}" \
        < /dev/null 2>&1
    echo "MINIVMM-HOST-EXIT $?"
} | while IFS= read -r line; do
    line=${line%"$cr"}
    printf '%s\n' "$line" >> "$log"
    case $line in
    *MINIVMM-*)
        t=$(( $(date +%s) - start ))
        printf '%s %s\n' "$t" "${line#*MINIVMM-}" >> "$events"
        case $line in
        *MINIVMM-INIT-REACHED*) echo "$name: /init reached after ${t}s" >&2 ;;
        *MINIVMM-TEST-DONE*)    echo "$name: test done after ${t}s" >&2 ;;
        esac
        ;;
    esac
done
total=$(( $(date +%s) - start ))

value() { sed -n "s/^[0-9]* $1 *//p" "$events" | tail -n 1; }
problems=
note() { problems="$problems
  $*"; }

host_rc=$(value HOST-EXIT)
grep -q " INIT-REACHED" "$events" || note "/init was not reached"
cpus=$(value CPUS)
[ "$cpus" = 2 ] || note "CPUs: got '${cpus}', want 2"
mem=$(value MEMTOTAL)
case $mem in
''|*[!0-9]*) note "MemTotal: got '${mem}', want a number of kB" ;;
*) [ "$mem" -ge $((400 * 1024)) ] && [ "$mem" -le $((512 * 1024)) ] ||
       note "MemTotal: ${mem} kB, want 400..512 MiB for --memory 512M" ;;
esac
done_rc=$(value TEST-DONE)
[ "$done_rc" = 0 ] || note "boot test: MINIVMM-TEST-DONE '${done_rc}', want 0"
grep -q " POWEROFF-FAILED" "$events" && note "guest power-off did not stop the VM"
case $host_rc in
0) ;;
124|137) note "minivmm timed out after ${LINUX_BOOT_TIMEOUT}s" ;;
*) note "minivmm exited ${host_rc:-?}, want 0 (guest powered off)" ;;
esac

if [ -n "$problems" ]; then
    echo "$name: last console lines:" >&2
    tail -n 25 "$log" | sed 's/^/  | /' >&2
    fail "after ${total}s:$problems"
fi
init_t=$(sed -n 's/^\([0-9]*\) INIT-REACHED.*/\1/p' "$events")
echo "$name: PASS: /init after ${init_t}s, cpus=$cpus, MemTotal=${mem} kB," \
     "powered off after ${total}s" >&2
exit 0
