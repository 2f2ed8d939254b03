#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the integration tests of one kind: tests/integration/<kind>_*.sh
# (tests/interop/interop_*.sh for the kind "interop").
# Each script exits 0 (pass), 77 (skipped: says why on stderr) or anything
# else (fail), and is killed after TEST_TIMEOUT seconds (default 300, or the
# number on a "# timeout: N" line in the script). Prints
# "<kind>: N passed, N failed, N skipped" and exits non-zero on any failure.
kind=${1:?usage: run-integration.sh payload|linux|interop}
: "${BUILD:=build}"
export BUILD
pass=0; fail=0; skip=0
dir=tests/integration
[ "$kind" = interop ] && dir=tests/interop
for t in "$dir"/"$kind"_*.sh; do
    [ -e "$t" ] || continue
    limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -n 1)
    limit=${limit:-${TEST_TIMEOUT:-300}}
    start=$(date +%s)
    timeout -k 5 "$limit" sh "$t"
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
    0)  pass=$((pass + 1)); echo "PASS $t (${secs}s)" ;;
    77) skip=$((skip + 1)); echo "SKIP $t" ;;
    124|137) fail=$((fail + 1)); echo "FAIL $t: timed out after ${limit}s" ;;
    *)  fail=$((fail + 1)); echo "FAIL $t (exit $rc, ${secs}s)" ;;
    esac
done
echo "$kind tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
