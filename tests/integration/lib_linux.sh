# SPDX-License-Identifier: BSD-3-Clause
# The set-up the Linux-guest tests share, sourced
# (`. "$(dirname "$0")/lib_linux.sh"`) after the test sets $name. BUILD
# defaults to build, KIT to build/kit. Defines functions only:
#   skip MSG...             "$name: SKIP: MSG" on stderr, exit 77
#   fail MSG...             "$name: FAIL: MSG" on stderr, exit 1
#   need_linux [vfu-blk]    skip without a usable /dev/kvm (or without
#                           $BUILD/vfu-blk when named), fail without
#                           $BUILD/minivmm; then tools/guest/build-kit.sh
#                           (a no-op when the kit is up to date)
#   kit_has CONFIG_X        skip unless the kit's kernel has CONFIG_X=y
#   linux_dir               a temp dir $dir; on exit (or INT/TERM) the
#                           processes $vm and $srv are killed, $dir removed
#   start_vfu IMG [OPTS]    tools/vfu-blk on $dir/s.sock over IMG (with
#                           vfu-blk OPTS), output in $dir/srv.log, pid in
#                           $srv; fail unless the socket is there in 5 s
#   stop_vfu                SIGTERM $srv and reap it
#   run_linux SECS ARGS...  minivmm with the kit (1 vCPU, 512 MiB) and
#                           ARGS, killed after SECS seconds; the serial
#                           output in $log ($BUILD/$name.log) and, CRs
#                           dropped, in $dir/log; exit status in $rc
#   host_args               the kernel parameters this host needs
#                           (tools/guest/host-cmdline.sh)
#   block_is FILE N TEXT    the first line of 4 KiB block N of FILE is TEXT
#   note MSG...             records a problem (checks go on)
#   verdict LINES FILE      fail with the problems noted, after FILE's last
#                           LINES lines; else "$name: PASS"
: "${BUILD:=build}"
: "${KIT:=build/kit}"
skip() { echo "$name: SKIP: $*" >&2; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
need_linux() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not usable"
    [ -x "$BUILD/minivmm" ] || fail "$BUILD/minivmm not built"
    for b in "$@"; do
        [ -x "$BUILD/$b" ] || skip "$BUILD/$b not built"
    done
    tools/guest/build-kit.sh --out "$KIT" >&2 || fail "build-kit.sh failed"
}
kit_has() {
    grep -q "^$1=y" "$KIT/kernel.config" ||
        skip "$KIT's kernel has no $1"
}
linux_dir() {
    dir=$(mktemp -d) || exit 1
    srv= vm=
    trap 'for p in $vm $srv; do kill "$p" 2>/dev/null; done; rm -rf "$dir"' \
        EXIT INT TERM
}
start_vfu() {   # IMG [vfu-blk options]
    img=$1; shift
    "$BUILD/vfu-blk" --socket-path="$dir/s.sock" --disk "$img" "$@" \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && return 0; sleep 0.1; done
    fail "vfu-blk did not start"
}
stop_vfu() { kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=; }
host_args() { tools/guest/host-cmdline.sh; }
run_linux() {   # SECONDS minivmm-options...
    secs=$1; shift
    log=$BUILD/$name.log
    start=$(date +%s)
    timeout -k 5 "$secs" "$BUILD/minivmm" --kernel "$KIT/vmlinux" \
        --initrd "$KIT/initrd.cpio" --cpus 1 --memory 512M "$@" \
        </dev/null >"$log" 2>&1
    rc=$?
    tr -d '\r' <"$log" >"$dir/log"
    echo "$name: minivmm exited $rc after $(( $(date +%s) - start ))s" \
         "(log: $log)" >&2
}
block_is() {    # FILE BLOCK TEXT
    [ "$(dd if="$1" bs=4096 skip="$2" count=1 2>/dev/null | head -n 1)" = "$3" ]
}
problems=
note() { problems="$problems
  $*"; }
verdict() {     # LINES FILE
    if [ -n "$problems" ]; then
        tail -n "$1" "$2" | sed 's/^/  | /' >&2
        fail "$problems"
    fi
    echo "$name: PASS" >&2
}
