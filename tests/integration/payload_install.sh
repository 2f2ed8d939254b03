#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 180
# `make install DESTDIR=$tmp PREFIX=/usr`: the three programs, man pages,
# docs and vfu-blk's description file land where they should; the
# installed programs print the version; `man -l` renders each installed
# page; a payload runs from the installed binaries (installed minivmm,
# installed vfu-blk serving the virtio payload's vblk test); `make
# uninstall` removes everything it installed.
: "${BUILD:=build}"
name=payload_install
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
[ -x "$BUILD/minivmm" ] || fail "$BUILD/minivmm not built"
dir=$(mktemp -d) || exit 1
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$dir"' EXIT
root=$dir/root
make -s --no-print-directory BUILD="$BUILD" DESTDIR="$root" PREFIX=/usr \
    install >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; fail "make install failed"; }
bin=$root/usr/bin
for f in bin/minivmm bin/minivmm-ctl bin/vfu-blk \
         share/man/man1/minivmm.1 share/man/man1/minivmm-ctl.1 \
         share/man/man1/vfu-blk.1 share/doc/minivmm/README.md \
         share/doc/minivmm/LICENSE share/doc/minivmm/CHANGELOG.md \
         share/doc/minivmm/api.md share/vfio-user/50-minivmm-vfu-blk.json; do
    [ -e "$root/usr/$f" ] || fail "make install did not install /usr/$f"
done
grep -q '"binary": "/usr/bin/vfu-blk"' "$root/usr/share/vfio-user/50-minivmm-vfu-blk.json" ||
    fail "the installed description file does not name /usr/bin/vfu-blk"
for p in minivmm minivmm-ctl vfu-blk; do
    v=$("$bin/$p" --version) || fail "installed $p --version failed"
    echo "$name: installed $p --version: $v" >&2
    case $v in "$p "[0-9]*) ;; *) fail "installed $p --version: '$v'" ;; esac
    MANWIDTH=80 man -l "$root/usr/share/man/man1/$p.1" 2>"$dir/man.err" >"$dir/man.out" ||
        fail "man -l $p.1 failed: $(cat "$dir/man.err")"
    grep -q "^NAME" "$dir/man.out" && grep -q "^OPTIONS" "$dir/man.out" ||
        fail "man -l $p.1 rendered no NAME/OPTIONS section"
done

# A payload from the installed binaries (needs KVM).
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    truncate -s 1M "$dir/d.img"
    "$bin/vfu-blk" --socket-path="$dir/s.sock" --disk "$dir/d.img" \
        >"$dir/srv.log" 2>&1 &
    srv=$!
    for i in $(seq 50); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
    [ -S "$dir/s.sock" ] || fail "the installed vfu-blk did not start"
    "$bin/minivmm" --kernel "$BUILD/guest/virtio.elf" --memory 256M \
        --vfio-user socket="$dir/s.sock" --cmdline "test=vblk" \
        </dev/null >"$dir/vm.out" 2>&1
    rc=$?
    kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=
    [ "$rc" -eq 0 ] && tr -d '\r' <"$dir/vm.out" | grep -qx "PASS vblk" || {
        tail -n 20 "$dir/vm.out" >&2
        fail "the payload did not pass from the installed binaries (exit $rc)"
    }
    echo "$name: installed minivmm + vfu-blk: PASS vblk;" \
         "$(grep requests= "$dir/srv.log" | tail -n 1)" >&2
else
    echo "$name: no usable /dev/kvm: payload run skipped" >&2
fi

make -s --no-print-directory BUILD="$BUILD" DESTDIR="$root" PREFIX=/usr \
    uninstall >"$dir/uninstall.log" 2>&1 || fail "make uninstall failed"
left=$(find "$root" -type f | sed "s|^$root||")
[ -z "$left" ] || fail "make uninstall left: $left"
echo "$name: PASS" >&2
