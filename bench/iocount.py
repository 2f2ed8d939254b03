#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# iocount.py [options] DISK: what one guest I/O costs, in counts (issue 16,
# "The I/O path proven by counters"). DISK is "virtio" (the in-VMM
# virtio-blk), "fd" (vfu-blk, dma=fd) or "message" (vfu-blk,
# dma=message). The virtio payload's vblk-iocount test streams silent 4 KiB
# QD1 reads, each one doorbell and one MSI-X completion; once it prints
# "iocount: start" this reads minivmm's API "stats" and vfu-blk's counters
# (SIGUSR1 line), waits --secs (again, up to 30 times, until --min-ios
# I/Os are in), reads both again and divides the deltas by the device's
# requests in between. Prints one line:
#   iocount DISK: ios N per-1000: vmm_exits X vmm_wakeups Y
#     server_wakeups Z messages M (exits io/mmio/other: ...)
# vmm_exits: KVM_RUN returns of all vCPUs (docs/api.md "stats"),
# vmm_wakeups: the event loop's epoll_wait returns plus the vfio-user
# endpoints' blocking waits, server_wakeups: vfu-blk's epoll_wait returns
# and DMA reply waits, messages: vfio-user messages both ways counted by
# minivmm's client. The window holds one API request (one loop wakeup)
# and one SIGUSR1 (one server wakeup) of the measurement itself, one more
# of each per extension.
# --max-exits/--max-messages R: exit 3 unless per-1000 <= R (tests).
# --json FILE: write the numbers. Exit 77 without /dev/kvm or a binary,
# 1 when the measurement itself failed.
import argparse, json, os, re, signal, socket, subprocess, sys, tempfile
import time


def wait_for(pred, secs, what):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"iocount: timed out waiting for {what}")


class Api:
    """One persistent API connection (one loop wakeup per request)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(30)
        self.s.connect(path)
        self.buf, self.id = b"", 0

    def call(self, cmd):
        self.id += 1
        self.s.sendall(json.dumps({"id": self.id, "cmd": cmd}).encode()
                       + b"\n")
        while True:
            while b"\n" not in self.buf:
                d = self.s.recv(65536)
                if not d:
                    raise SystemExit("iocount: the API closed")
                self.buf += d
            line, self.buf = self.buf.split(b"\n", 1)
            r = json.loads(line)
            if r.get("id") == self.id:
                if "error" in r:
                    raise SystemExit(f"iocount: {cmd}: {r['error']}")
                return r


def vfu_counters(srv, log):
    """SIGUSR1 vfu-blk, return its next counter line as a dict."""
    def lines():
        with open(log) as f:
            return [l for l in f if l.startswith("vfu-blk: requests=")]
    n = len(lines())
    srv.send_signal(signal.SIGUSR1)
    last = wait_for(lambda: len(lines()) > n and lines()[-1], 10,
                    "vfu-blk's counters")
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", last)}


def vmm_view(st, disk):
    dev = st["devices"][0]
    ex = st["exits"]
    v = {"exits": ex["total"], "io": ex["io"], "mmio": ex["mmio"],
         "wakeups": st["wakeups"]["evloop"] + st["wakeups"]["vfio_user"]}
    if disk == "virtio":
        v["requests"] = dev["block"]["requests"]
        v["messages"] = 0
    else:
        m = dev["vfio_user"]["messages"]
        v["messages"] = m["sent"] + m["received"]
    return v


def run(a, d):
    b = a.build
    disk = os.path.join(d, "d.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    srv = None
    dev = ["--disk", f"path={disk}"]
    if a.disk != "virtio":
        sock = os.path.join(d, "s.sock")
        srv = subprocess.Popen([f"{b}/vfu-blk", f"--socket-path={sock}",
                                "--disk", disk] + a.vfu_arg,
                               stdout=open(os.path.join(d, "srv.log"), "w"),
                               stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(sock), 10, "vfu-blk's socket")
        dev = ["--vfio-user", f"socket={sock}" +
               (",dma=message" if a.disk == "message" else "")]
    out, api_path = os.path.join(d, "out"), os.path.join(d, "api")
    vm = subprocess.Popen([f"{b}/minivmm", "--kernel",
                           f"{b}/guest/virtio.elf", "--memory", "128M",
                           "--serial", f"file:{out}", "--api-socket",
                           api_path, "--cmdline",
                           "test=vblk-iocount io-secs=600"] + dev,
                          stdin=subprocess.DEVNULL,
                          stderr=open(os.path.join(d, "err"), "w"))
    try:
        return measure(a, d, vm, srv, out, api_path)
    finally:
        for p in (vm, srv):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def guest_out(out):
    try:
        return open(out, errors="replace").read().replace("\r", "")
    except FileNotFoundError:
        return ""


def measure(a, d, vm, srv, out, api_path):
    def started():
        if vm.poll() is not None:
            raise SystemExit("iocount: minivmm exited early:\n"
                             + guest_out(out)
                             + open(os.path.join(d, "err")).read())
        return "iocount: start\n" in guest_out(out)
    wait_for(started, 120, "iocount: start")
    api = Api(api_path)
    s1 = vmm_view(api.call("stats")["stats"], a.disk)
    v1 = vfu_counters(srv, os.path.join(d, "srv.log")) if srv else None
    for _ in range(30):  # the window: --secs, longer until --min-ios
        time.sleep(a.secs)
        s2 = vmm_view(api.call("stats")["stats"], a.disk)
        v2 = vfu_counters(srv, os.path.join(d, "srv.log")) if srv else None
        got = (v2["requests"] - v1["requests"] if srv
               else s2["requests"] - s1["requests"])
        if got >= a.min_ios:
            break
    tail = guest_out(out).split("iocount: start\n", 1)[1]
    if tail.strip():
        raise SystemExit(f"iocount: the guest spoke in the window: {tail}")
    api.call("quit")
    vm.wait(30)
    delta = {k: s2[k] - s1[k] for k in s1}
    if v1:
        delta["requests"] = v2["requests"] - v1["requests"]
        delta["server_wakeups"] = v2["wakeups"] - v1["wakeups"]
        delta["server_messages"] = (
            v2["messages_sent"] + v2["messages_received"]
            - v1["messages_sent"] - v1["messages_received"])
        delta["server_doorbells_trapped"] = (v2["doorbells_region_write"]
                                             - v1["doorbells_region_write"])
        delta["dma_rounds"] = v2.get("dma_rounds", 0) - v1.get("dma_rounds", 0)
    else:
        delta["server_wakeups"] = delta["server_messages"] = 0
        delta["dma_rounds"] = 0
        delta["server_doorbells_trapped"] = 0
    return delta


def main():
    p = argparse.ArgumentParser()
    p.add_argument("disk", choices=["virtio", "fd", "message"])
    p.add_argument("--build", default=os.environ.get("BUILD", "build"))
    p.add_argument("--secs", type=float, default=2.0)
    p.add_argument("--vfu-arg", action="append", default=[])
    p.add_argument("--label")
    p.add_argument("--min-ios", type=int, default=200)
    p.add_argument("--max-exits", type=float)
    p.add_argument("--max-messages", type=float)
    p.add_argument("--json")
    a = p.parse_args()
    need = [f"{a.build}/minivmm", f"{a.build}/guest/virtio.elf"]
    if a.disk != "virtio":
        need.append(f"{a.build}/vfu-blk")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK) or \
            not all(os.path.exists(x) for x in need):
        print("iocount: no /dev/kvm or no build: skipped")
        return 77
    with tempfile.TemporaryDirectory() as d:
        dl = run(a, d)
    n = dl["requests"]
    if n < a.min_ios:
        raise SystemExit(f"iocount: only {n} I/Os in {30 * a.secs} s")
    k = lambda x: 1000.0 * x / n
    res = {"disk": a.disk, "ios": n, "vmm_exits": k(dl["exits"]),
           "vmm_exits_io": k(dl["io"]), "vmm_exits_mmio": k(dl["mmio"]),
           "vmm_wakeups": k(dl["wakeups"]),
           "server_wakeups": k(dl["server_wakeups"]),
           "dma_rounds": k(dl["dma_rounds"]),
           "messages": k(dl["messages"]),
           "server_messages": k(dl["server_messages"]),
           "trapped_doorbells": k(dl["server_doorbells_trapped"])}
    print(f"iocount {a.label or a.disk}: ios {n} per-1000: vmm_exits "
          f"{res['vmm_exits']:.1f} vmm_wakeups {res['vmm_wakeups']:.1f} "
          f"server_wakeups {res['server_wakeups']:.1f} messages "
          f"{res['messages']:.1f} (exits io {res['vmm_exits_io']:.1f} "
          f"mmio {res['vmm_exits_mmio']:.1f}; server-side messages "
          f"{res['server_messages']:.1f}, trapped doorbells "
          f"{res['trapped_doorbells']:.1f}, DMA round trips "
          f"{res['dma_rounds']:.1f})")
    if a.json:
        json.dump(res, open(a.json, "w"))
    bad = []
    if a.max_exits is not None and res["vmm_exits"] > a.max_exits:
        bad.append(f"vmm_exits {res['vmm_exits']:.1f} > {a.max_exits}")
    if a.max_messages is not None and res["messages"] > a.max_messages:
        bad.append(f"messages {res['messages']:.1f} > {a.max_messages}")
    if bad:
        print("iocount: over the bound: " + ", ".join(bad))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
