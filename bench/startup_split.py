#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# startup_split.py STRACE_FILE...: from `strace -f -tt -T` output of
# minivmm starts, print the time from execve to the first KVM_RUN and how
# much of it was spent inside KVM ioctls (and /dev/kvm's open), inside
# other syscalls of the main thread (the one that exec'd: other threads'
# syscalls, e.g. a restore's loader, overlap with it and are not on the
# path to the first KVM_RUN), and elsewhere (our code, the dynamic
# loader, scheduling); the median of each over the files given. KVM
# ioctls on other threads (a restore makes the VM and its memslots, and
# commits the GSI routing, on helper threads) are shown apart, with how
# long the main thread waited for them (its futex calls: the joins).
import re, statistics, sys

def secs(ts):
    h, m, s = ts.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)

def split(path):
    t_exec = t_run = main = None
    kvm = other = bg = join = 0.0
    pending = {}  # pid -> the start of a call strace split ("<unfinished ...>")
    for line in open(path):
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
            t_exec, main = t, pid
        if "KVM_RUN" in rest:
            t_run = t
            break
        d = re.search(r"<(\d+\.\d+)>$", rest)
        if not d or t_exec is None:
            continue
        kvm_call = "KVM_" in rest or "/dev/kvm" in rest
        if kvm_call and pid != main:
            bg += float(d.group(1))  # a helper thread's, overlapping
        elif kvm_call:
            kvm += float(d.group(1))
        elif pid == main and rest.startswith("futex("):
            join += float(d.group(1))  # waiting for a helper thread
        elif pid == main:
            other += float(d.group(1))
    if t_exec is None or t_run is None:
        sys.exit("no execve or no KVM_RUN in " + path)
    total = t_run - t_exec
    return (total * 1e3, kvm * 1e3, other * 1e3,
            (total - kvm - other - join) * 1e3, bg * 1e3, join * 1e3)

rows = [split(p) for p in sys.argv[1:]]
med = [statistics.median(r[k] for r in rows) for k in range(6)]
print("exec -> first KVM_RUN under strace (median of %d): %.2f ms: KVM "
      "ioctls %.2f ms; outside them %.2f ms (other syscalls %.2f ms, user "
      "code and scheduling %.2f ms); KVM ioctls on helper threads %.2f ms, "
      "overlapping, of which the main thread waited %.2f ms (futex)"
      % (len(rows), med[0], med[1], med[2] + med[3], med[2], med[3],
         med[4], med[5]))
