#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# restore_time.py API CMD...: start CMD (a minivmm --restore ... with
# --api-socket API), poll API every 0.2 ms until the VM's state is
# "running", print the ms from just before the start, then "quit" it.
# One process for start and poll: no fork per poll in the measurement.
import json, os, socket, subprocess, sys, time

api, cmd = sys.argv[1], sys.argv[2:]
try:
    os.unlink(api)
except FileNotFoundError:
    pass
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
s = None
while s is None:
    if p.poll() is not None:
        sys.exit("minivmm exited %d before running" % p.returncode)
    try:
        c = socket.socket(socket.AF_UNIX)
        c.connect(api)
        s = c
    except OSError:
        c.close()
        time.sleep(0.0002)
f = s.makefile("rw")
f.write('{"cmd":"status"}\n'); f.flush()
while True:
    r = json.loads(f.readline())
    if r.get("state") == "running":
        break
ms = (time.monotonic() - t0) * 1000
f.write('{"cmd":"quit"}\n'); f.flush()
p.wait(timeout=30)
print("%.1f" % ms)
