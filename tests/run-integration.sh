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
# Every API reply and event minivmm sends during the run is checked against
# docs/api.schema.json at the end (minivmm/api.c, MINIVMM_API_TRACE).
MINIVMM_API_TRACE=$(mktemp) || exit 1
export MINIVMM_API_TRACE
trap 'rm -f "$MINIVMM_API_TRACE"' EXIT
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
if [ -s "$MINIVMM_API_TRACE" ]; then
    python3 tests/integration/api_schema_check.py docs/api.schema.json \
        "$MINIVMM_API_TRACE" >"$MINIVMM_API_TRACE.out" 2>&1
    rc=$?
    tail -n 20 "$MINIVMM_API_TRACE.out"
    rm -f "$MINIVMM_API_TRACE.out"
    case $rc in
    0)  pass=$((pass + 1)); echo "PASS api schema (every reply and event)" ;;
    77) skip=$((skip + 1)); echo "SKIP api schema" ;;
    *)  fail=$((fail + 1)); echo "FAIL api schema" ;;
    esac
fi
echo "$kind tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
