#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# timeline.py RUNS API CMD...: run CMD (a minivmm command line; API is its
# --api-socket path, or "-" when the VM exits by itself) RUNS times with
# --log-level debug, read the start-up timeline from its stderr (lines
# "minivmm: start-up +N us: STEP", minivmm/startup.c) up to the first
# KVM_RUN, quit it through API, and print per step the median time since
# main() and the median time of the step itself (from the step before in
# the same run), in microseconds; first
# the time from just before the spawn to main() (fork and exec from this
# script, the dynamic loader), from the CLOCK_MONOTONIC stamp minivmm
# prints at main() ("start-up: main() entered at ...").
import json, os, socket, statistics, subprocess, sys, time

runs, api, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
steps = {}      # step -> [us since main()]
deltas = {}     # step -> [us since the step before, same run]
order = []
spawn = []      # us from before the spawn to main()
for _ in range(runs):
    if api != "-":
        try:
            os.unlink(api)
        except FileNotFoundError:
            pass
    t_spawn = time.monotonic_ns()
    p = subprocess.Popen(cmd + ["--log-level", "debug"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    prev = 0
    for line in p.stderr:
        if line.startswith("minivmm: start-up: main() entered at "):
            t0 = int(line.split("CLOCK_MONOTONIC ")[1].split()[0])
            spawn.append((t0 - t_spawn) // 1000)
        if not line.startswith("minivmm: start-up +"):
            continue
        us, step = line[len("minivmm: start-up +"):].split(" us: ", 1)
        step = step.strip()
        if step not in steps:
            steps[step] = []
            deltas[step] = []
            order.append(step)
        steps[step].append(int(us))
        deltas[step].append(int(us) - prev)
        prev = int(us)
        if step.startswith("first KVM_RUN"):
            break
    if api != "-":
        for _ in range(2000):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(api)
                s.sendall(b'{"cmd":"quit"}\n')
                s.recv(4096)
                s.close()
                break
            except OSError:
                time.sleep(0.005)
    p.stderr.close()
    p.wait(timeout=60)

if spawn:
    print("  %8d %+7d  spawn -> main() (fork, exec, dynamic loader)"
          % (-statistics.median(spawn), statistics.median(spawn)))
for step in order:
    print("  %8d %+7d  %s" % (statistics.median(steps[step]),
                              statistics.median(deltas[step]), step))
