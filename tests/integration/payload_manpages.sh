#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 60
# Man pages and --help agree: for minivmm, minivmm-ctl and vfu-blk, the
# options (and minivmm-ctl's commands) listed by --help are exactly those
# listed in docs/man/PROG.1 (the tag lines of its OPTIONS and COMMANDS
# sections). Also: each page passes `man --warnings`, --version prints the
# version compiled in (tools/version.sh), and vfu-blk refuses bad command
# lines saying why (exit 2), and prints its capabilities as JSON with the
# features of tools/vfu-blk/vfu-blk.json. No KVM needed.
: "${BUILD:=build}"
name=payload_manpages
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
# The version compiled in (Makefile: BUILD/gen/version.c, from
# tools/version.sh); every program must print it.
ver=$(sed -n 's/.*minivmm_version\[\] = "\([^"]*\)".*/\1/p' "$BUILD/gen/version.c")
[ -n "$ver" ] || fail "no version in $BUILD/gen/version.c"
case $ver in "$(cat VERSION)"*|[0-9]*) ;; *) fail "odd version '$ver'" ;; esac

# --help: first word of lines indented by exactly two spaces.
help_items() {
    sed -n 's/^  \(-\{0,2\}[a-z][a-z0-9-]*\).*/\1/p' | sort -u
}
# Man page: the first word of each .TP tag in OPTIONS / COMMANDS.
man_items() {
    awk '/^\.SH/ { sec = $0; next }
         sec ~ /OPTIONS|COMMANDS/ && tag { print; tag = 0; next }
         /^\.TP/ { tag = 1 }' "$1" |
    sed -e 's/^\.[BIR]* *//' -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' \
        -e 's/^"//' -e 's/[ ="|].*//' | sort -u
}
problems=
for p in minivmm minivmm-ctl vfu-blk; do
    [ -x "$BUILD/$p" ] || fail "$BUILD/$p not built"
    page=docs/man/$p.1
    [ -f "$page" ] || fail "no $page"
    "$BUILD/$p" --help | help_items > "$dir/$p.help"
    man_items "$page" > "$dir/$p.man"
    [ -s "$dir/$p.help" ] || fail "$p --help lists nothing"
    if ! cmp -s "$dir/$p.help" "$dir/$p.man"; then
        problems="$problems
  $p: --help and $page differ (< only in --help, > only in the page):
$(diff "$dir/$p.help" "$dir/$p.man" | grep '^[<>]' | sed 's/^/    /')"
    fi
    echo "$name: $p: $(wc -l < "$dir/$p.help") options/commands in both" >&2
    w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -E UTF-8 "$page" 2>&1 >/dev/null)
    [ -z "$w" ] || problems="$problems
  $page: man --warnings: $w"
    got=$("$BUILD/$p" --version)
    [ "$got" = "$p $ver" ] ||
        problems="$problems
  $p --version: '$got', want '$p $ver'"
done

# vfu-blk refuses with the reason, exit 2.
refuse() { # want-substring args...
    want=$1; shift
    "$BUILD/vfu-blk" "$@" >/dev/null 2>"$dir/err"
    rc=$?
    [ "$rc" -eq 2 ] && grep -q -- "$want" "$dir/err" || problems="$problems
  vfu-blk $*: exit $rc, stderr '$(head -n 1 "$dir/err")', want 2 and '$want'"
}
refuse "no --disk FILE given" --socket-path="$dir/s"
refuse "--queues: bad value '99' (1 to 64)" --socket-path="$dir/s" --disk /dev/null --queues 99
refuse "give --socket-path=PATH or --fd=N" --disk /dev/null
refuse "--migration: bad value 'v3'" --fd=3 --disk /dev/null --migration=v3
refuse "unexpected argument 'x'" --fd=3 --disk /dev/null x
# --print-capabilities: JSON whose features are the description file's.
"$BUILD/vfu-blk" --print-capabilities > "$dir/caps.json" ||
    problems="$problems
  vfu-blk --print-capabilities failed"
python3 - "$dir/caps.json" tools/vfu-blk/vfu-blk.json <<'PY' || problems="$problems
  vfu-blk --print-capabilities does not match tools/vfu-blk/vfu-blk.json"
import json, sys
caps = json.load(open(sys.argv[1]))
desc = json.load(open(sys.argv[2]))
assert caps["type"] == desc["type"] == "block", (caps, desc)
assert caps["features"] == desc["features"], (caps, desc)
PY
[ -z "$problems" ] || fail "$problems"
echo "$name: PASS" >&2
