#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Validate API lines against docs/api.schema.json.

usage: api_schema_check.py SCHEMA FILE...

Each FILE holds one JSON object per line (MINIVMM_API_TRACE: the replies
and events minivmm sent; --event-log; minivmm-ctl --json output). Objects
with "event" are checked as events, with "cmd" as requests, the rest as
replies. Prints one line per bad object and a summary; exit 1 if any is
bad, 77 if python3-jsonschema is missing.
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("api_schema_check: python3-jsonschema is not installed",
          file=sys.stderr)
    sys.exit(77)


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    kinds = {}
    for k in ("request", "reply", "event"):
        sub = dict(schema)
        sub.pop("oneOf", None)
        sub["$ref"] = "#/$defs/" + k
        kinds[k] = jsonschema.Draft202012Validator(sub)
    seen = {"request": 0, "reply": 0, "event": 0}
    bad = 0
    for path in sys.argv[2:]:
        for n, line in enumerate(open(path, errors="replace"), 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                print(f"{path}:{n}: not JSON: {line[:120]}")
                bad += 1
                continue
            kind = ("event" if "event" in obj else
                    "request" if "cmd" in obj else "reply")
            seen[kind] += 1
            errs = sorted(kinds[kind].iter_errors(obj), key=str)
            if errs:
                bad += 1
                e = errs[0]
                where = "/".join(str(p) for p in e.absolute_path)
                print(f"{path}:{n}: {kind} {line[:160]}: {where}: "
                      f"{e.message[:200]}")
    print(f"api_schema_check: {seen['reply']} replies, {seen['event']} "
          f"events, {seen['request']} requests; {bad} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
