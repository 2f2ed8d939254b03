# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the live-migration and API integration tests, after they set
# $name and $BUILD: lib.sh's helpers, then skip (77) without a usable
# /dev/kvm, fail without minivmm-ctl, and a temp dir $dir whose processes
# ($pids) are killed on exit.
. "$(dirname "$0")/lib.sh"
need_kvm
[ -x "$BUILD/minivmm-ctl" ] || fail "no $BUILD/minivmm-ctl"
make_dir
