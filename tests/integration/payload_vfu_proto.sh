#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# vfio-user protocol test: build/vfu-test drives real build/vfu-blk
# processes through every client->server command (VERSION with and without
# twin socket, info, IO fds, IRQs, region access, DMA with and without fds,
# dirty logging, migration to a second process, reset, malformed input)
# and moves a 4 MiB pattern through the virtqueue. No KVM needed.
: "${BUILD:=build}"
for b in vfu-test vfu-blk; do
    [ -x "$BUILD/$b" ] ||
        { echo "payload_vfu_proto: $BUILD/$b not built" >&2; exit 77; }
done
dir=$(mktemp -d /tmp/vfu-proto.XXXXXX) || exit 1
"$BUILD/vfu-test" --vfu-blk="$BUILD/vfu-blk" --dir="$dir"
rc=$?
if [ "$rc" -ne 0 ]; then
    for f in "$dir"/*.log; do
        echo "--- $f" >&2
        tail -n 20 "$f" >&2
    done
fi
rm -rf "$dir"
exit "$rc"
