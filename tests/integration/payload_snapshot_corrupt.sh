#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# Corrupt snapshot files are refused by --restore with exit 2 and a message
# naming what is wrong, before any VM is created: truncated files, a
# flipped byte in the file header and in every section (state, each ram
# chunk, end), a wrong magic, a newer format version, a missing file.
# That holds with prefault=on (RAM loaded and checked before the start);
# on demand (the default) a flip inside a ram chunk's pages is found by
# the background loader after the start: exit 2 all the same, naming the
# section.
: "${BUILD:=build}"
name=payload_snapshot_corrupt
fail() { echo "$name: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
good=$dir/good.snap

"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 96M \
    --cmdline "test=counter tick_ms=50" --serial "file:$dir/out" \
    --api-socket "$dir/api" 2>"$dir/err" &
pid=$!
i=0
until tr -d '\r' <"$dir/out" 2>/dev/null | grep -q "^counter: tick 2 "; do
    i=$((i + 1))
    [ "$i" -gt 400 ] && fail "the guest does not count"
    sleep 0.05
done
"$BUILD/minivmm-ctl" "$dir/api" snapshot "$good" >/dev/null ||
    fail "snapshot failed"
"$BUILD/minivmm-ctl" "$dir/api" quit >/dev/null || fail "quit failed"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || fail "quit: minivmm exited $rc, want 0"
size=$(wc -c <"$good")

# u64 (little-endian) at byte offset $2 of file $1.
u64() { od -An -tu8 -j "$2" -N 8 "$1" | tr -d ' '; }
# XOR the byte at offset $2 of file $1 with 0x20.
flip() {
    b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf "\\$(printf %o $((b ^ 32)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# expect FILE WANT: --restore FILE,prefault=on exits 2 saying WANT.
expect() {
    "$BUILD/minivmm" --restore "$1,prefault=on" --serial none >"$dir/o" \
        2>"$dir/e"
    rc=$?
    [ "$rc" -eq 2 ] || fail "$3: exit $rc, want 2 ($(cat "$dir/e"))"
    grep -q "$2" "$dir/e" || fail "$3: '$(cat "$dir/e")' lacks '$2'"
    grep -q "restored" "$dir/e" && fail "$3: restored anyway"
    echo "refused ($3): $(cat "$dir/e")"
}
# expect_lazy FILE WANT: on demand, exit 2 saying WANT (after the start).
expect_lazy() {
    timeout 20 "$BUILD/minivmm" --restore "$1" --serial none >"$dir/o" \
        2>"$dir/e"
    rc=$?
    [ "$rc" -eq 2 ] || fail "$3 (on demand): exit $rc, want 2 ($(cat "$dir/e"))"
    grep -q "$2" "$dir/e" || fail "$3 (on demand): '$(cat "$dir/e")' lacks '$2'"
    echo "refused on demand ($3): $(tail -1 "$dir/e")"
}
variant() { cp "$good" "$dir/bad"; }

# The sections: header 64 bytes, then 32-byte section headers + payloads.
off=64
n=0
while [ "$off" -lt "$size" ]; do
    len=$(u64 "$good" $((off + 8)))
    type=$(od -An -tu4 -j "$off" -N 4 "$good" | tr -d ' ')
    case $type in 1) t=state ;; 2) t=ram ;; 3) t=end ;; *) t=? ;; esac
    pl=$((off + 32))
    for at in "$pl" $((pl + len / 2)) $((pl + len - 1)); do
        variant; flip "$dir/bad" "$at"
        expect "$dir/bad" "section $n ($t)" "flip in section $n ($t) at $at"
        # past a ram chunk's header and bitmap (16 + 1 KiB): its pages
        [ "$t" = ram ] && [ "$at" -gt $((pl + 16 + 1024)) ] &&
            expect_lazy "$dir/bad" "section $n (ram): checksum mismatch" \
                "flip in section $n (ram) at $at"
    done
    variant; flip "$dir/bad" $((off + 8))
    expect "$dir/bad" "section $n" "flip in section $n's header"
    off=$((pl + len))
    n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n sections in the snapshot"

variant; flip "$dir/bad" 30
expect "$dir/bad" "file header: checksum" "flip in the file header"
variant; printf 'XXXX' | dd of="$dir/bad" bs=1 seek=0 conv=notrunc status=none
expect "$dir/bad" "not a minivmm snapshot" "wrong magic"
variant; printf '\002' | dd of="$dir/bad" bs=1 seek=8 conv=notrunc status=none
expect "$dir/bad" "version 2 is not supported" "newer version"
for cut in 0 40 100 $((size / 2)) $((size - 1)); do
    head -c "$cut" "$good" >"$dir/bad"
    expect "$dir/bad" "truncated" "truncated to $cut bytes"
done
expect "$dir/nonexistent" "No such file" "missing file"
echo "$name: $n sections, every corruption refused"
