#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make bench: run every bench/bench_*.sh in order; each prints its numbers.
: "${BUILD:=build}"
export BUILD
rc=0
for b in bench/bench_*.sh; do
    [ -e "$b" ] || continue
    echo "== $b"
    sh "$b" || { echo "bench $b failed"; rc=1; }
done
exit $rc
