#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 150
# Eager restore (--restore FILE,prefault=on; minivmm/persist/snapshot_load.c)
# of a guest holding 64 MiB of pseudo-random data (test=counter fill_mb=64
# check_fill=1: every tick recomputes the data and prints "fill ok" or
# "fill BAD"): once with the snapshot dropped from the page cache (O_DIRECT
# reads when the file system has them: the debug log says which), once
# cached (preads through the page cache). Each time the counter goes on
# from the saved tick and the data read back match, and the O_DIRECT run
# leaves the file out of the page cache.
: "${BUILD:=build}"
name=payload_snapshot_eager
. "$(dirname "$0")/lib.sh"
need_kvm
command -v python3 >/dev/null || { echo "$name: SKIP (no python3)"; exit 0; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/snap_eager.XXXXXX") || exit 1
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

"$BUILD/minivmm" --kernel "$BUILD/guest/payload.elf" --memory 256M \
    --cmdline "test=counter fill_mb=64 check_fill=1 tick_ms=100" \
    --serial "file:$dir/out1" --api-socket "$dir/api1" 2>"$dir/err1" &
pid=$!
wait_for "$dir/out1" "^counter: tick 2 " 60 ||
    { cat "$dir/out1" "$dir/err1"; fail "the guest does not count"; }
grep -q "^counter: fill ok" "$dir/out1" || fail "no fill check before"
ctl "$dir/api1" pause >/dev/null || fail "pause failed"
saved=$(ticks "$dir/out1" | tail -n 1)
ctl "$dir/api1" snapshot "$dir/vm.snap" >/dev/null || fail "snapshot failed"
ctl "$dir/api1" quit >/dev/null
wait "$pid"
pid=

# py CMD FILE: "drop" evicts FILE from the page cache (fsync first: only
# clean pages go); "direct" says whether FILE's file system takes O_DIRECT;
# "cached" prints how many of FILE's pages are in the page cache.
py() {
    python3 - "$@" <<'PY'
import mmap, os, sys
cmd, path = sys.argv[1], sys.argv[2]
if cmd == "drop":
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
elif cmd == "direct":
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
        print("yes")
    except OSError:
        print("no")
elif cmd == "cached":
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    size = os.path.getsize(path)
    fd = os.open(path, os.O_RDONLY)
    # A private writable mapping, never written: mincore() reports the
    # file's page-cache pages; from_buffer needs a writable buffer.
    m = mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE,
                  prot=mmap.PROT_READ | mmap.PROT_WRITE)
    vec = (ctypes.c_ubyte * ((size + 4095) // 4096))()
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    if libc.mincore(ctypes.c_void_p(base), ctypes.c_size_t(size), vec):
        sys.exit("mincore failed")
    print(sum(v & 1 for v in vec))
PY
}

# restore RUN: restore eagerly, check the counter and the data.
restore() {
    "$BUILD/minivmm" --restore "$dir/vm.snap,prefault=on" --log-level debug \
        --serial "file:$dir/out$1" --api-socket "$dir/api$1" 2>"$dir/err$1" &
    pid=$!
    wait_for "$dir/out$1" "^counter: tick $((saved + 2)) " 60 ||
        { cat "$dir/out$1" "$dir/err$1"; fail "$1: restored guest stuck"; }
    resumes "$dir/out$1" "$saved" "$1"
    grep -q "^counter: fill BAD" "$dir/out$1" &&
        fail "$1: data differ after the restore: $(grep BAD "$dir/out$1")"
    grep -q "^counter: fill ok" "$dir/out$1" ||
        fail "$1: no data check after the restore"
    grep -q "restored .* in " "$dir/err$1" || fail "$1: no restore line"
    ctl "$dir/api$1" quit >/dev/null
    wait "$pid"
    pid=
}

py drop "$dir/vm.snap"
restore cold
if [ "$(py direct "$dir/vm.snap")" = yes ]; then
    grep -q "not in the page cache: O_DIRECT reads" "$dir/errcold" ||
        { cat "$dir/errcold"; fail "cold: O_DIRECT not used"; }
    cached=$(py cached "$dir/vm.snap")
    [ "$cached" -lt 1024 ] ||
        fail "cold: $cached pages of the file in the page cache after O_DIRECT"
    how="O_DIRECT, $cached pages cached after"
else
    grep -q "not in the page cache: no O_DIRECT here" "$dir/errcold" ||
        { cat "$dir/errcold"; fail "cold: no fallback message"; }
    how="no O_DIRECT on this file system: page cache"
fi
restore warm
grep -q "not in the page cache" "$dir/errwarm" &&
    fail "warm: the cached file was read with O_DIRECT"
echo "$name: cold ($how) and warm restores: 64 MiB verified, counter" \
    "went on from tick $saved"
