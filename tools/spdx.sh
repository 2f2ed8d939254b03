#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Licence tags: every tracked source file carries an SPDX-License-Identifier
# line in its first 5 lines (LICENSE). BSD-3-Clause everywhere except the
# guest-kernel patch and configuration fragment under tools/guest/, which
# are GPL-2.0-only like the kernel they modify.
#
# Usage: tools/spdx.sh [--check | --add]
#   --check  (default) list files without a tag; exit 1 if any
#   --add    add the tag in each file's comment syntax (after a #! line)
# Not tagged (no comment syntax, or data): *.json, VERSION, LICENSE, the
# fuzz corpora; LICENSE covers them.
set -eu
cd "$(dirname "$0")/.."
mode=${1:---check}
case $mode in --check|--add) ;; *) echo "usage: $0 [--check|--add]" >&2; exit 2 ;; esac

licence() {
    case $1 in
    tools/guest/*.patch|tools/guest/kernel.config) echo GPL-2.0-only ;;
    *) echo BSD-3-Clause ;;
    esac
}

# The tag line in the file's syntax; empty: not tagged.
tag_line() {
    id="SPDX-License-Identifier: $(licence "$1")"
    case $1 in
    tests/fuzz/corpus/*|*.json|VERSION|LICENSE) ;;
    *.c|*.h|*.S|*.ld) echo "/* $id */" ;;
    *.md) echo "<!-- $id -->" ;;
    *.1) echo ".\\\" $id" ;;
    *.patch) echo "$id" ;;
    *.sh|*.py|*.mk|*.config|Makefile|.ci/run|.gitignore|.clang-format|*/fstab)
        echo "# $id" ;;
    esac
}

missing=0
for f in $(git ls-files); do
    [ -f "$f" ] || continue
    line=$(tag_line "$f")
    [ -n "$line" ] || continue
    head -n 5 "$f" | grep -q 'SPDX-License-Identifier:' && continue
    if [ "$mode" = --check ]; then
        echo "no SPDX-License-Identifier: $f"
        missing=$((missing + 1))
        continue
    fi
    tmp=$f.spdx-tmp
    if head -n 1 "$f" | grep -q '^#!'; then
        { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } > "$tmp"
    else
        { echo "$line"; cat "$f"; } > "$tmp"
    fi
    chmod --reference="$f" "$tmp"
    mv "$tmp" "$f"
    echo "tagged: $f"
done
if [ "$mode" = --check ]; then
    [ "$missing" -eq 0 ] || { echo "spdx: $missing file(s) untagged; run tools/spdx.sh --add" >&2; exit 1; }
    echo "spdx: every source file is tagged"
fi
