#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# --log-level and --log-file (vmm/log.h): with --log-file the progress
# lines (the serial console's pty path, a snapshot's summary) land in the
# file and not on stderr; --log-level warn drops them; --log-level debug
# keeps them; a bad level or an unusable log file exits 2 saying why, on
# stderr.
: "${BUILD:=build}"
name=payload_log
. tests/integration/lib_migrate.sh
K="$BUILD/guest/payload.elf"

# start N ARGS...: a counting guest with an API socket $dir/N.api.
start() {
    n=$1; shift
    "$BUILD/minivmm" --kernel "$K" --memory 64M \
        --cmdline "test=counter ticks=300 tick_ms=100" \
        --serial "file:$dir/$n.out" --api-socket "$dir/$n.api" "$@" \
        2>"$dir/$n.err" &
    pids="$pids $!"
    wait_for "$dir/$n.out" "^counter: tick 2 " 30 ||
        { cat "$dir/$n.err"; fail "$n: the guest does not count"; }
    ctl "$dir/$n.api" snapshot "$dir/$n.snap" >/dev/null ||
        fail "$n: snapshot failed"
    ctl "$dir/$n.api" quit >/dev/null || fail "$n: quit failed"
    wait
}

start file --log-file "$dir/file.log"
grep -q "^minivmm: snapshot $dir/file.snap: .* MiB" "$dir/file.log" ||
    { cat "$dir/file.log"; fail "no snapshot line in the log file"; }
[ "$(stat -c %a "$dir/file.log")" = 600 ] || fail "log file not 0600"
grep -q "snapshot" "$dir/file.err" &&
    { cat "$dir/file.err"; fail "the snapshot line went to stderr too"; }

start warn --log-level warn
grep -q "snapshot" "$dir/warn.err" &&
    { cat "$dir/warn.err"; fail "--log-level warn wrote an info line"; }
start debug --log-level debug
grep -q "^minivmm: snapshot $dir/debug.snap: " "$dir/debug.err" ||
    { cat "$dir/debug.err"; fail "--log-level debug lost the info line"; }

# Refusals: exit 2, the reason on stderr.
"$BUILD/minivmm" --kernel "$K" --log-level loud 2>"$dir/bad.err"
[ $? -eq 2 ] || fail "--log-level loud did not exit 2"
grep -q "log-level 'loud': error, warn, info or debug" "$dir/bad.err" ||
    fail "bad level: $(cat "$dir/bad.err")"
ln -s "$dir/elsewhere" "$dir/link.log"
"$BUILD/minivmm" --kernel "$K" --log-file "$dir/link.log" 2>"$dir/bad.err"
[ $? -eq 2 ] || fail "a symlinked --log-file did not exit 2"
grep -q "^minivmm: --log-file $dir/link.log: " "$dir/bad.err" ||
    fail "symlink: $(cat "$dir/bad.err")"
[ -e "$dir/elsewhere" ] && fail "the log followed the symlink"
echo "$name: PASS"
