#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 120
# --config (issue 12): the same VM from the command line and from a JSON
# file gives the same `minivmm-ctl API config` output; that output fed
# back as a file gives itself again; command-line options override the
# file's scalars and add to its lists; the file and the output validate
# against docs/vm.schema.json, whose keys are exactly --help's options
# (but config/help/version); bad files exit 2 naming the key and reason.
: "${BUILD:=build}"
name=payload_config
. tests/integration/lib_migrate.sh
python3 -c "import jsonschema" 2>/dev/null ||
    { echo "$name: python3-jsonschema missing (tools/setup.sh)" >&2; exit 77; }
K="$BUILD/guest/payload.elf"
truncate -s 1M "$dir/d.img" "$dir/e.img"

# run NAME ARGS...: start a VM, save its config as $dir/NAME.json, quit it.
run() {
    n=$1; shift
    "$BUILD/minivmm" "$@" --api-socket "$dir/api" 2>"$dir/$n.err" &
    p=$!
    i=0
    until ctl "$dir/api" status >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -gt 200 ] && { cat "$dir/$n.err"; fail "$n: no API"; }
        kill -0 "$p" 2>/dev/null || { cat "$dir/$n.err"; fail "$n: exited"; }
        sleep 0.05
    done
    ctl "$dir/api" config >"$dir/$n.json" || fail "$n: config failed"
    ctl "$dir/api" quit >/dev/null || fail "$n: quit failed"
    wait "$p"
}

run cli --kernel "$K" --cmdline "test=counter ticks=300 tick_ms=100" \
    --cpus 2 --memory 64M --serial "file:$dir/out" --rng \
    --disk "path=$dir/d.img,id=data,readonly" --migrate-downtime-ms 50
cat >"$dir/vm.json" <<EOT
{
  "kernel": "$K",
  "cmdline": "test=counter ticks=300 tick_ms=100",
  "cpus": 2,
  "memory": "64M",
  "serial": "file:$dir/out",
  "rng": true,
  "disk": [ "path=$dir/d.img,id=data,readonly" ],
  "migrate-downtime-ms": 50
}
EOT
run file --config "$dir/vm.json"
cat "$dir/cli.json"
cmp "$dir/cli.json" "$dir/file.json" ||
    { diff "$dir/cli.json" "$dir/file.json"; fail "CLI and file differ"; }
grep -q '"api-socket": "'"$dir/api"'"' "$dir/cli.json" ||
    fail "config lacks the command line's api-socket"

# The output is itself a valid file describing the same VM (its
# api-socket is the one run gives again on the command line).
cp "$dir/cli.json" "$dir/in.json"
run round --config "$dir/in.json"
cmp "$dir/cli.json" "$dir/round.json" ||
    { diff "$dir/cli.json" "$dir/round.json"; fail "round trip differs"; }

# Command line over the file: cpus replaced, one more disk.
run over --config "$dir/vm.json" --cpus 1 --disk "path=$dir/e.img"
grep -q '"cpus": 1,' "$dir/over.json" || fail "--cpus 1 did not override"
grep -q "path=$dir/d.img,readonly,id=data" "$dir/over.json" &&
    grep -q "path=$dir/e.img,id=disk1" "$dir/over.json" ||
    { cat "$dir/over.json"; fail "--disk did not add to the file's disks"; }

# Schema: the files validate; its keys are --help's options.
"$BUILD/minivmm" --help | grep -o '^  --[a-z-]*' | sed 's/^  --//' |
    grep -vx 'config\|help\|version' | sort >"$dir/help.keys"
python3 - "$dir" docs/vm.schema.json <<'EOT' || fail "schema check failed"
import json, sys, jsonschema
d, schema = sys.argv[1], json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
for f in ("vm.json", "cli.json", "over.json"):
    jsonschema.validate(json.load(open(f"{d}/{f}")), schema)
keys = sorted(schema["properties"])
help_keys = open(f"{d}/help.keys").read().split()
if keys != help_keys:
    sys.exit(f"schema keys {keys} != --help options {help_keys}")
for bad in ({"cpu": 2}, {"cpus": 0}, {"disk": 5}, {"rng": "yes"}):
    try:
        jsonschema.validate(bad, schema)
        sys.exit(f"schema accepts {bad}")
    except jsonschema.ValidationError:
        pass
print("payload_config: schema ok,", len(keys), "keys")
EOT

# Bad files: exit 2, the key and the reason on stderr.
bad() {     # JSON EXPECTED-STDERR-TEXT
    printf '%s\n' "$1" >"$dir/bad.json"
    "$BUILD/minivmm" --config "$dir/bad.json" 2>"$dir/bad.err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "'$1' exited $rc, want 2"
    grep -qF "$2" "$dir/bad.err" ||
        fail "'$1': stderr '$(cat "$dir/bad.err")' lacks '$2'"
}
bad '{"cpu": 2}' 'unknown key "cpu"'
bad '{"kernel": "k", "cpus": 0}' '"cpus": --cpus '"'0'"': need a number'
bad '{"kernel": "k", "disk": 5}' '"disk": must be a string or an array'
bad '{"kernel": "k", "rng": "yes"}' '"rng": must be true or false'
bad '{"kernel": "k", "disk": ["path=x,bogus"]}' "\"disk\": --disk"
bad '{"kernel": "k", "config": "x"}' 'unknown key "config"'
bad '{"kernel": ' 'not JSON (unexpected end'
bad '[1]' 'must hold one JSON object'
echo "$name: PASS"
