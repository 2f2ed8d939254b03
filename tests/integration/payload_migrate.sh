#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 90
# Live migration over unix: a guest counting in RAM at CPL3 (tests/guest
# test=counter) on 2 vCPUs migrates to a second minivmm started with
# --incoming; the counter goes on there from the next tick (no reboot), the
# guest finishes with status 0 on the destination, and the source exits 0
# once the destination took over. Then migrate-status on a fresh VM says
# "none", and a second migration of the destination (migrated twice) works.
# No thread of the running destination is left SCHED_FIFO (the stop
# window's real-time boost, handed to its vCPU threads, ends before guest
# code runs: docs/migration.md).
: "${BUILD:=build}"
name=payload_migrate
. tests/integration/lib_migrate.sh

"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --cpus 2 \
    --memory 256M --cmdline "test=counter ticks=40 tick_ms=100 fill_mb=32" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
src=$!
pids="$src"
wait_for "$dir/out1" "^counter: tick 3 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
ctl "$dir/api1" migrate-status | grep -qx "state: none" ||
    fail "migrate-status before any migration is not 'none'"

"$BUILD/minivmm" --incoming "unix:$dir/mig1" --serial "file:$dir/out2" \
    --api-socket "$dir/api2" 2>"$dir/err2" &
dst=$!
pids="$pids $dst"
ctl "$dir/api1" migrate "unix:$dir/mig1" >"$dir/mig.out" 2>"$dir/mig.err" ||
    { cat "$dir/mig.out" "$dir/mig.err" "$dir/err1" "$dir/err2";
      fail "migration failed"; }
cat "$dir/mig.out"
grep -qx "state: completed" "$dir/mig.out" || fail "not completed"
wait "$src"
rc=$?
[ "$rc" -eq 0 ] || fail "source exited $rc after the migration, want 0"
last=$(ticks "$dir/out1" | tail -n 1)
wait_for "$dir/out2" "^counter: tick $((last + 3)) " 20 ||
    { cat "$dir/out2" "$dir/err2"; fail "no progress on the destination"; }
first=$(ticks "$dir/out2" | head -n 1)
next_tick "$dir/out1" "$last" "$first" ||
    fail "destination starts at tick '$first', want $((last + 1))"
tr -d '\r' <"$dir/out2" | grep -q "^payload: cmdline" &&
    fail "the destination booted the guest again"
for t in /proc/"$dst"/task/*; do
    chrt -p "${t##*/}" 2>/dev/null | grep -q SCHED_FIFO &&
        fail "destination thread $(cat "$t/comm") is left SCHED_FIFO"
done

# Migrate the destination once more, to a third instance.
"$BUILD/minivmm" --incoming "unix:$dir/mig2" --serial "file:$dir/out3" \
    2>"$dir/err3" &
dst2=$!
pids="$pids $dst2"
ctl "$dir/api2" migrate "unix:$dir/mig2" >"$dir/mig2.out" 2>&1 ||
    { cat "$dir/mig2.out" "$dir/err2" "$dir/err3";
      fail "second migration failed"; }
wait "$dst"
rc=$?
[ "$rc" -eq 0 ] || fail "first destination exited $rc, want 0"
last2=$(ticks "$dir/out2" | tail -n 1)
wait "$dst2"
rc=$?
tr -d '\r' <"$dir/out3" | tail -n 3
[ "$rc" -eq 0 ] || { cat "$dir/err3"; fail "final VM exited $rc, want 0"; }
first2=$(ticks "$dir/out3" | head -n 1)
next_tick "$dir/out2" "$last2" "$first2" ||
    fail "third instance starts at tick '$first2', want $((last2 + 1))"
tr -d '\r' <"$dir/out3" | grep -qx "PASS counter" || fail "no 'PASS counter'"
echo "$name: ticks 1-$last on the source, $first-$last2 on the second," \
    "$first2-40 on the third; $(grep "^downtime" "$dir/mig.out")"
