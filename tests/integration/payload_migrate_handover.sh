#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 240
# The migration hand-over under loss, cut and stall (docs/migration.md,
# "Hand-over"): exactly one side runs the guest, or, when the source cannot
# know, the source keeps it paused and whole. A proxy
# (tests/integration/migproxy.py) sits between source and destination, both
# with --migrate-timeout-ms 2000:
#  1. GO lost, connection kept: the destination gives up at its deadline,
#     says so and never runs; the source hears it and runs on.
#  2. GO lost and the connection cut: the destination never runs; the
#     source is "in-doubt", paused, counter frozen; `resume` brings it back.
#  3. RUNNING lost: the destination runs; the source is "in-doubt", paused,
#     and does not count (never both).
#  4. destination silent after BUILT: the source's deadline fires, it runs
#     on; the destination (no GO) never runs.
#  5. source stalls after the header: the destination gives up at its
#     deadline (it does not wait forever); the source runs on.
#  6. token: a source with the wrong token is refused before any data is
#     read (the source runs on, the token never shows in status); with the
#     right one the migration completes.
: "${BUILD:=build}"
name=payload_migrate_handover
. tests/integration/lib_migrate.sh
command -v python3 >/dev/null || { echo "$name: no python3" >&2; exit 77; }
T="--migrate-timeout-ms 2000"
last_tick() { ticks "$1" | tail -n 1; }
counts() {      # OUT WHAT: two more ticks within 5 s
    t=$(last_tick "$1")
    wait_for "$1" "^counter: tick $((t + 2)) " 5 ||
        fail "$2: the guest does not count any more"
}
frozen() {      # OUT WHAT: no new tick within 1.5 s
    t=$(last_tick "$1")
    sleep 1.5
    [ "$(last_tick "$1")" = "$t" ] || fail "$2: the guest still counts"
}
start_src() {   # N
    # shellcheck disable=SC2086
    "$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 128M $T \
        --cmdline "test=counter ticks=3000 tick_ms=100 fill_mb=8" \
        --serial "file:$dir/s$1" --api-socket "$dir/api$1" 2>"$dir/serr$1" &
    src=$!
    pids="$pids $src"
    wait_for "$dir/s$1" "^counter: tick 2 " 30 ||
        { cat "$dir/s$1" "$dir/serr$1"; fail "source $1 does not count"; }
}
start_dst() {   # N [URI-OPTIONS]
    # shellcheck disable=SC2086
    "$BUILD/minivmm" --incoming "unix:$dir/dmig$1$2" $T \
        --serial "file:$dir/d$1" 2>"$dir/derr$1" &
    dst=$!
    pids="$pids $dst"
    wait_for "$dir/derr$1" "waiting for an incoming" 10 ||
        fail "destination $1 does not listen"
}
start_proxy() { # N MODE
    python3 tests/integration/migproxy.py "$dir/pmig$1" "$dir/dmig$1" "$2" \
        >"$dir/p$1" 2>&1 &
    pids="$pids $!"
    wait_for "$dir/p$1" "listening" 10 || fail "proxy $1 does not listen"
}
migrate() {     # N: migrate through proxy N; the client's output in $dir/m$N
    ctl "$dir/api$1" migrate "unix:$dir/pmig$1" >"$dir/m$1" 2>&1
}
dst_never_ran() {   # N WHAT
    wait "$dst" && fail "$2: the destination exited 0"
    [ -f "$dir/d$1" ] && ticks "$dir/d$1" | grep -q . &&
        fail "$2: the destination ran the guest"
    return 0
}

# 1. GO lost, connection kept.
start_src 1; start_dst 1; start_proxy 1 drop-go
migrate 1 && fail "1: migrate reported success"
grep -q "GO dropped" "$dir/p1" || fail "1: the proxy never saw GO"
grep -q "^failure: the destination did not take the guest" "$dir/m1" ||
    fail "1: $(cat "$dir/m1")"
dst_never_ran 1 "1"
counts "$dir/s1" "1"
echo "$name: 1. GO lost: $(grep '^failure' "$dir/m1")"
ctl "$dir/api1" quit >/dev/null

# 2. GO lost, connection cut.
start_src 2; start_dst 2; start_proxy 2 cut-go
migrate 2 && fail "2: migrate reported success"
grep -qx "state: in-doubt" "$dir/m2" || fail "2: $(cat "$dir/m2")"
dst_never_ran 2 "2"
ctl "$dir/api2" status | grep -qx "state: paused" ||
    fail "2: source state: $(ctl "$dir/api2" status | head -n 1)"
frozen "$dir/s2" "2 (in doubt)"
ctl "$dir/api2" resume >/dev/null || fail "2: resume refused"
counts "$dir/s2" "2 (resumed)"
echo "$name: 2. GO cut: source in doubt, paused, resumed by hand"
ctl "$dir/api2" quit >/dev/null

# 3. RUNNING lost: the destination runs, the source must not.
start_src 3; start_dst 3; start_proxy 3 drop-running
migrate 3 && fail "3: migrate reported success"
grep -qx "state: in-doubt" "$dir/m3" || fail "3: $(cat "$dir/m3")"
grep -q "RUNNING dropped" "$dir/p3" || fail "3: the proxy never saw RUNNING"
last=$(last_tick "$dir/s3")
wait_for "$dir/d3" "^counter: tick $((last + 3)) " 20 ||
    { cat "$dir/derr3"; fail "3: the destination does not run the guest"; }
ctl "$dir/api3" status | grep -qx "state: paused" || fail "3: source not paused"
frozen "$dir/s3" "3 (source, in doubt)"
echo "$name: 3. RUNNING lost: destination runs from tick $((last + 1)), source paused"
ctl "$dir/api3" quit >/dev/null
kill "$dst" 2>/dev/null

# 4. Destination silent after BUILT.
start_src 4; start_dst 4; start_proxy 4 silent-after-built
migrate 4 && fail "4: migrate reported success"
grep -qx "state: failed" "$dir/m4" || fail "4: $(cat "$dir/m4")"
grep -q "timed out" "$dir/m4" || fail "4: $(cat "$dir/m4")"
dst_never_ran 4 "4"
counts "$dir/s4" "4"
echo "$name: 4. silent destination: $(grep '^failure' "$dir/m4")"
ctl "$dir/api4" quit >/dev/null

# 5. Source stalls after the header.
start_src 5; start_dst 5; start_proxy 5 stall-after-header
migrate 5 && fail "5: migrate reported success"
dst_never_ran 5 "5"
grep -q "timed out" "$dir/derr5" || fail "5: destination: $(cat "$dir/derr5")"
counts "$dir/s5" "5"
echo "$name: 5. stalled source: destination: $(tail -n 1 "$dir/derr5")"
ctl "$dir/api5" quit >/dev/null

# 6. Token.
start_src 6; start_dst 6 ",token=open-sesame"
ctl "$dir/api6" migrate "unix:$dir/dmig6,token=open-sesamE" >"$dir/m6" 2>&1 &&
    fail "6: a wrong token was accepted"
dst_never_ran 6 "6"
grep -q "did not prove the migration token" "$dir/derr6" ||
    fail "6: destination: $(cat "$dir/derr6")"
grep -q "sesam" "$dir/m6" && fail "6: the token shows in the status"
counts "$dir/s6" "6"
start_dst 7 ",token=open-sesame"
ctl "$dir/api6" migrate "unix:$dir/dmig7,token=open-sesame" >"$dir/m7" 2>&1 ||
    fail "6: the right token: $(cat "$dir/m7")"
wait_for "$dir/d7" "^counter: tick" 20 || fail "6: destination does not run"
echo "$name: 6. token: wrong one refused, right one migrated"
kill "$dst" 2>/dev/null
echo "$name: PASS"
