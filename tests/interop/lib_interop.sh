# SPDX-License-Identifier: BSD-3-Clause
# Shared by tests/interop/interop_*.sh (sourced; set NAME first).
# Skips (77) without /dev/kvm or without the peers (build/peers/.stamp:
# `make peers`, tests/interop/build-peers.sh). Provides:
#   $SAMPLES         libvfio-user's sample servers
#   $LVU             our lvu-test-server (need_lvu checks it)
#   $dir             a temporary directory, removed at exit
#   fail MSG         exit 1 saying why
#   spawn VAR CMD... run CMD in the background, its pid in $VAR (killed at
#                    exit if still running)
#   wait_sock PATH   wait (5 s) for a server's socket
#   wait_line FILE RE SECS  wait for a line matching RE (CRs stripped)
#   stop PID         SIGTERM and reap
: "${BUILD:=build}"
fail() { echo "$NAME: $*" >&2; exit 1; }
skip() { echo "$NAME: skipped: $*" >&2; exit 77; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm"
[ -f "$BUILD/peers/.stamp" ] ||
    skip "no libvfio-user peers in $BUILD/peers (make peers; Debian's qemu source package needed)"
[ -x "$BUILD/minivmm" ] && [ -f "$BUILD/guest/interop.elf" ] ||
    skip "$BUILD/minivmm or $BUILD/guest/interop.elf not built"
SAMPLES=$BUILD/peers/libvfio-user/samples
LVU=$BUILD/interop/lvu-test-server
need_lvu() {
    [ -x "$LVU" ] || skip "$LVU not built (make lvu-server)"
}
dir=$(mktemp -d) || exit 1
PIDS=
cleanup() {
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    [ -n "$KEEP" ] && { echo "kept $dir" >&2; return; }
    rm -rf "$dir"
}
trap cleanup EXIT
spawn() {
    _var=$1; shift
    "$@" &
    eval "$_var=\$!"
    PIDS="$PIDS $!"
}
wait_sock() {
    for _i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
    fail "no server socket at $1"
}
wait_line() {
    _end=$(( $(date +%s) + $3 ))
    while [ "$(date +%s)" -le "$_end" ]; do
        tr -d '\r' <"$1" 2>/dev/null | grep -q -- "$2" && return 0
        sleep 0.1
    done
    tr -d '\r' <"$1" | tail -n 20 >&2
    fail "no line matching '$2' in $1 within $3 s"
}
stop() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
