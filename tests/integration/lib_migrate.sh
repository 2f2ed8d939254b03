# SPDX-License-Identifier: BSD-3-Clause
# Helpers sourced by the live-migration integration tests, after they set
# $name and $BUILD: skip (77) without a usable /dev/kvm, a temp dir $dir
# whose processes ($pids) are killed on exit, and waits on serial output.
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
[ -x "$BUILD/minivmm-ctl" ] || fail "no $BUILD/minivmm-ctl"
dir=$(mktemp -d) || exit 1
pids=
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
# next_tick SRC_OUT LAST FIRST: the destination's first whole tick line is
# the next tick, or the one after when the source stopped in the middle of
# printing it (its output then ends in a partial line, finished at the
# destination: neither file holds it whole).
next_tick() {
    [ "$3" = $(($2 + 1)) ] && return 0
    [ "$3" = $(($2 + 2)) ] && [ -n "$(tail -c 1 "$1" | tr -d '\n')" ]
}
ctl() { "$BUILD/minivmm-ctl" "$@"; }
wait_for() {    # FILE REGEX SECONDS
    i=0
    while ! tr -d "\r" 2>/dev/null <"$1" | grep -q "$2"; do
        i=$((i + 1))
        [ "$i" -gt $(($3 * 20)) ] && return 1
        sleep 0.05
    done
}
ticks() { tr -d '\r' <"$1" | sed -n 's/^counter: tick \([0-9]*\) .*/\1/p'; }
