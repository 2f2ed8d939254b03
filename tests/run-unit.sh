#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run each cmocka unit-test binary given as an argument; print a summary line
# "unit: N passed, N failed" and exit non-zero if any binary failed.
pass=0; fail=0
for t in "$@"; do
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "unit tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
