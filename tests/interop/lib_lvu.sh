# SPDX-License-Identifier: BSD-3-Clause
# Helpers sourced by the interop tests that use our libvfio-user-based
# test device (tests/interop/lvu-mig-server.c), after they set $name and
# $BUILD: skip (77, saying why) without build/peers or a usable /dev/kvm;
# build $BUILD/peers/lvu-mig-server against build/peers' headers and
# libvfio-user.so.0 when it is missing or older than its source (nothing
# else in the project links libvfio-user); a temp dir $dir whose processes
# ($pids) are killed on exit; waits on files (tests/integration/lib.sh).
. "$(dirname "$0")/../integration/lib.sh"
skip() { echo "$name: skipped: $*" >&2; exit 77; }
[ -f "$BUILD/peers/.stamp" ] ||
    skip "no $BUILD/peers/.stamp: libvfio-user is not built (make peers;" \
         "Debian's qemu source package may not be available here)"
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    skip "no usable /dev/kvm"
for b in minivmm minivmm-ctl guest/lvu.elf; do
    [ -e "$BUILD/$b" ] || fail "no $BUILD/$b (make, make guest)"
done
LVU_SRV=$BUILD/peers/lvu-mig-server
lvu_src=tests/interop/lvu-mig-server.c
if [ ! -x "$LVU_SRV" ] || [ "$lvu_src" -nt "$LVU_SRV" ]; then
    lib=$(cd "$BUILD/peers/libvfio-user/lib" && pwd) ||
        fail "no $BUILD/peers/libvfio-user/lib"
    ${CC:-cc} -std=gnu11 -O2 -g -Wall -Wextra -Werror \
        -I"$BUILD/peers/include" -o "$LVU_SRV" "$lvu_src" \
        "$lib/libvfio-user.so.0" -Wl,-rpath,"$lib" ||
        fail "cannot build $LVU_SRV"
fi
make_dir
ticks() { tr -d '\r' <"$1" | sed -n 's/^lvu: tick \([0-9]*\)$/\1/p'; }
# lvu_start NAME [server options]: a server on $dir/NAME.sock logging to
# $dir/NAME.log; its pid in $srv.
lvu_start() {
    n=$1; shift
    "$LVU_SRV" --socket-path="$dir/$n.sock" "$@" 2>"$dir/$n.log" &
    srv=$!
    pids="$pids $srv"
    wait_for "$dir/$n.log" "lvu-mig-server: ready" 10 && [ -S "$dir/$n.sock" ] ||
        { cat "$dir/$n.log"; ls -la "$dir"; fail "lvu-mig-server $n did not start"; }
}
# The last BAR0 digest a server saved / restored (its log).
saved_fnv() { sed -n 's/.*saved bar0 fnv \([0-9a-f]*\).*/\1/p' "$1" | tail -n 1; }
restored_fnv() { sed -n 's/.*restored bar0 fnv \([0-9a-f]*\).*/\1/p' "$1" | tail -n 1; }
