#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 150
# Convergence (docs/migration.md, "Convergence"): a guest that dirties 16
# MiB in a tight CPL3 loop (tests/guest test=counter dirty_mb=16: a page
# every 4096 increments, far faster than the link) migrates over a link
# capped at 32 MiB/s (migrate max-bandwidth=32M). Without auto-converge
# the dirty set never shrinks: the migration fails after a bound with an
# error that says what to do, and the guest keeps counting on the source
# (unthrottled). With auto-converge (the default) the vCPU throttle rises
# (the events report throttle-percent) until the rest fits the 10 ms
# target; the migration completes and the counter goes on on the
# destination from the next tick.
: "${BUILD:=build}"
name=payload_migrate_converge
. tests/integration/lib_migrate.sh

"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 256M \
    --cmdline "test=counter tick_ms=200 dirty_mb=16" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" \
    --log-level debug 2>"$dir/err1" &
src=$!
pids="$src"
wait_for "$dir/out1" "^counter: tick 2 " 30 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }

# 1. No auto-converge: a clear failure, the guest runs on here.
"$BUILD/minivmm" --incoming "unix:$dir/mig1" --serial none 2>"$dir/err2" &
dst=$!
pids="$pids $dst"
ctl "$dir/api1" migrate "unix:$dir/mig1" downtime-ms=10 max-bandwidth=32M \
    auto-converge=off >"$dir/mig1.out" 2>"$dir/mig1.err" &&
    { cat "$dir/mig1.out"; fail "migrated without converging"; }
cat "$dir/mig1.out"
grep -qx "state: failed" "$dir/mig1.out" || fail "not 'failed'"
grep -q "^failure: the migration does not converge: .*allow throttling" \
    "$dir/mig1.out" || fail "the failure does not say what to do"
grep -q '"throttle-percent":[1-9]' "$dir/mig1.err" &&
    fail "throttled with auto-converge=off"
gone "$dst" 20 || fail "the destination did not exit after the failure"
last=$(ticks "$dir/out1" | tail -n 1)
wait_for "$dir/out1" "^counter: tick $((last + 3)) " 20 ||
    fail "the guest does not run on after the failed migration"

# 2. Auto-converge: throttled, completes, the counter goes on there.
"$BUILD/minivmm" --incoming "unix:$dir/mig2" --serial "file:$dir/out3" \
    2>"$dir/err3" &
dst=$!
pids="$pids $dst"
ctl "$dir/api1" migrate "unix:$dir/mig2" downtime-ms=10 max-bandwidth=32M \
    >"$dir/mig2.out" 2>"$dir/mig2.err" ||
    { cat "$dir/mig2.out" "$dir/err1" "$dir/err3";
      fail "the migration did not converge with auto-converge"; }
cat "$dir/mig2.out"
grep -qx "state: completed" "$dir/mig2.out" || fail "not completed"
grep -q '"throttle-percent":[1-9]' "$dir/mig2.err" ||
    fail "no throttle-percent in the migration events"
grep -q "vCPUs throttled to" "$dir/err1" || fail "no throttle log line"
wait "$src"
rc=$?
[ "$rc" -eq 0 ] || fail "source exited $rc after the migration, want 0"
last=$(ticks "$dir/out1" | tail -n 1)
wait_for "$dir/out3" "^counter: tick $((last + 3)) " 20 ||
    { cat "$dir/out3" "$dir/err3"; fail "no progress on the destination"; }
first=$(ticks "$dir/out3" | head -n 1)
next_tick "$dir/out1" "$last" "$first" ||
    fail "destination starts at tick '$first', want $((last + 1))"
echo "$name: no auto-converge: $(sed -n 's/^failure: //p' "$dir/mig1.out" |
    cut -c1-100)...; auto-converge: $(grep -o "throttled to [0-9]*%" \
    "$dir/err1" | tail -n 1), $(grep "^iterations" "$dir/mig2.out"),"\
    "$(grep "^downtime-ms" "$dir/mig2.out"); ticks 1-$last, then $first on"
