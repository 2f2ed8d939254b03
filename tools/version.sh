#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Print minivmm's version: `git describe` of the source tree (a "vX.Y.Z"
# tag, or the VERSION file's number plus the commit when there is no tag,
# "-dirty" for uncommitted changes), else the VERSION file alone (release
# tarballs without .git).
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION 2>/dev/null || echo 0.0.0)
if [ -e .git ] && command -v git >/dev/null 2>&1; then
    v=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) &&
        { echo "${v#v}"; exit 0; }
    h=$(git describe --always --dirty 2>/dev/null) &&
        { echo "$base-g$h"; exit 0; }
fi
echo "$base"
