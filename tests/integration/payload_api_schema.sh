#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# docs/api.schema.json describes the API: every command (and errors) is
# sent to a running payload VM (test=powerbtn: it ignores hotplug, so a
# device-remove times out; powerdown ends it), and every reply and event minivmm sent
# (MINIVMM_API_TRACE), the --event-log file and minivmm-ctl --json output
# validate against the schema (tests/integration/api_schema_check.py,
# python3-jsonschema). docs/api.md documents every command and event the
# schema lists. (tests/run-integration.sh also checks every reply and
# event of the whole run.)
: "${BUILD:=build}"
name=payload_api_schema
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
    { echo "$name: no usable /dev/kvm" >&2; exit 77; }
python3 -c "import jsonschema" 2>/dev/null ||
    { echo "$name: python3-jsonschema missing (tools/setup.sh)" >&2; exit 77; }
dir=$(mktemp -d) || exit 1
vm=
cleanup() { [ -n "$vm" ] && kill "$vm" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$dir"; }
trap cleanup EXIT
MINIVMM_API_TRACE=$dir/trace
export MINIVMM_API_TRACE
truncate -s 1M "$dir/x.img"
: >"$dir/out"
"$BUILD/minivmm" --kernel "$BUILD/guest/vfio.elf" --memory 64M \
    --api-socket "$dir/api" --event-log "$dir/events" \
    --cmdline "test=powerbtn hp-secs=60" </dev/null >"$dir/out" 2>&1 &
vm=$!
i=0
until grep -q "powerbtn: waiting" "$dir/out"; do
    i=$((i + 1)); [ "$i" -le 300 ] || fail "guest not waiting"; sleep 0.1
done
c() { "$BUILD/minivmm-ctl" --json "$dir/api" "$@" >>"$dir/ctl" 2>&1; }
c status; c pause; c pause; c resume; c snapshot "$dir/s.snap"
c config; c stats; c migrate-status; c migrate-cancel
c device-add disk "path=$dir/x.img,id=x"
c device-add disk "path=$dir/x.img,id=y"
c device-add vfio-user "socket=$dir/none,id=v"
c device-remove nope
c device-remove x 200
i=0
until grep -q device-remove-failed "$dir/events"; do
    i=$((i + 1)); [ "$i" -le 100 ] || fail "no device-remove-failed event"
    sleep 0.1
done
c migrate "unix:$dir/nobody"; c migrate-status
c device-add disk "path=$dir/x.img,id=z"
i=0
until grep -q '"state":"failed"' "$dir/events"; do
    i=$((i + 1)); [ "$i" -le 300 ] || fail "the migration did not fail"
    sleep 0.1
done
# Raw lines: junk, a bad id, an unknown command.
python3 - "$dir/api" <<'PY' >>"$dir/ctl"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'junk\n{"id":"x","cmd":"status"}\n{"cmd":"jump"}\n'
          b'{"id":5,"cmd":"device-add","args":{"type":"net","id":"n"}}\n')
f = s.makefile()
for _ in range(4):
    print(f.readline().strip())
PY
c powerdown
wait "$vm"; rc=$?; vm=
[ "$rc" -eq 0 ] || fail "minivmm exited $rc after powerdown, want 0"
for f in trace events ctl; do
    [ -s "$dir/$f" ] || fail "$f is empty"
done
python3 tests/integration/api_schema_check.py docs/api.schema.json \
    "$dir/trace" "$dir/events" "$dir/ctl" || fail "schema check (above)"
grep -q '"event":"snapshot"' "$dir/events" || fail "no snapshot event"
grep -q '"event":"device-added"' "$dir/events" || fail "no device-added event"
grep -q '"event":"stop"' "$dir/events" || fail "no stop event"
# docs/api.md names every command and event of the schema.
python3 - docs/api.schema.json docs/api.md <<'PY' || fail "docs/api.md"
import json, sys
s = json.load(open(sys.argv[1]))
doc = open(sys.argv[2]).read()
names = (s["$defs"]["request"]["properties"]["cmd"]["enum"] +
         s["$defs"]["event"]["properties"]["event"]["enum"])
missing = [n for n in names if "`%s`" % n not in doc]
if missing:
    sys.exit("docs/api.md lacks: " + ", ".join(missing))
if "not implemented" in doc.split("## Commands")[1].split("## Events")[0]:
    sys.exit("docs/api.md still calls a command not implemented")
PY
echo "$name: PASS"
