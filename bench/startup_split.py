#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# startup_split.py STRACE_FILE: from `strace -f -tt -T` output of one
# minivmm start, print the time from execve to the first KVM_RUN and how
# much of it was spent inside KVM ioctls (and /dev/kvm's open), inside
# other syscalls, and elsewhere (our code, the dynamic loader, scheduling).
import re, sys

def secs(ts):
    h, m, s = ts.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)

t_exec = t_run = None
kvm = other = 0.0
pending = {}  # pid -> the start of a call strace split ("<unfinished ...>")
for line in open(sys.argv[1]):
    m = re.match(r"(\d+)\s+(\d+:\d+:\d+\.\d+) (.*)", line)
    if not m:
        continue
    pid, t, rest = m.group(1), secs(m.group(2)), m.group(3)
    if rest.endswith("<unfinished ...>"):
        pending[pid] = rest
        continue
    if rest.startswith("<... ") and pid in pending:
        rest = pending.pop(pid) + rest
    if t_exec is None and rest.startswith("execve("):
        t_exec = t
    if "KVM_RUN" in rest:
        t_run = t
        break
    d = re.search(r"<(\d+\.\d+)>$", rest)
    if not d or t_exec is None:
        continue
    if "KVM_" in rest or "/dev/kvm" in rest:
        kvm += float(d.group(1))
    else:
        other += float(d.group(1))
if t_exec is None or t_run is None:
    sys.exit("no execve or no KVM_RUN in " + sys.argv[1])
total = t_run - t_exec
print("exec -> first KVM_RUN under strace: %.2f ms: KVM ioctls %.2f ms, "
      "other syscalls %.2f ms, user code and scheduling %.2f ms"
      % (total * 1e3, kvm * 1e3, other * 1e3, (total - kvm - other) * 1e3))
