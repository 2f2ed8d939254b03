#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A live-migration proxy that loses, cuts or stalls the hand-over.

usage: migproxy.py LISTEN_PATH DEST_PATH MODE

Accepts one source on the UNIX socket LISTEN_PATH, connects to the
destination's DEST_PATH and forwards both ways, except (MODE):
  pass                forward everything
  drop-go             swallow the source's GO, keep both connections open
  cut-go              swallow the source's GO and close both connections
  drop-running        forward GO, swallow the destination's RUNNING answer,
                      then close both connections
  silent-after-built  after the destination's BUILT message, forward
                      nothing more from the destination (keep it open)
  stall-after-header  forward the 64-byte stream header, then read and
                      drop everything the source sends
Prints "migproxy: EVENT" lines on stdout as it acts (tests wait for them).
"""
import os
import select
import socket
import sys

BUILT = b"MVMMIGB\n"
REPLY = b"MVMMIGR\n"
GO = b"MVMMIGGO"
RUNNING = b"MVMMIGRN"


def say(what):
    print("migproxy: " + what, flush=True)


def main():
    listen_path, dest_path, mode = sys.argv[1:4]
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    ls.bind(listen_path)
    ls.listen(1)
    say("listening")
    src, _ = ls.accept()
    dst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dst.connect(dest_path)
    say("connected")
    up = 0               # bytes source -> destination
    down = b""           # everything destination -> source so far
    ready = False        # the destination's ready record went by
    mute_down = False
    while True:
        r, _, _ = select.select([src, dst], [], [], 60)
        if not r:
            say("idle 60 s, giving up")
            return
        if src in r:
            data = src.recv(1 << 20)
            if not data:
                say("source closed")
                return
            if mode == "stall-after-header":
                if up < 64:
                    dst.sendall(data[:64 - up])
                    if up + len(data) >= 64:
                        say("stalled after the header")
                up += len(data)
                continue
            if ready and data.startswith(GO) and mode in ("drop-go", "cut-go"):
                say("GO dropped")
                if mode == "cut-go":
                    return
                data = data[len(GO):]
            up += len(data)
            if data:
                dst.sendall(data)
        if dst in r:
            data = dst.recv(1 << 20)
            if not data:
                say("destination closed")
                return
            down += data
            if not ready and REPLY in down:
                ready = True
            if mode == "drop-running" and data.endswith(RUNNING):
                say("RUNNING dropped")
                return
            if not mute_down:
                src.sendall(data)
            if mode == "silent-after-built" and BUILT in down and not mute_down:
                mute_down = True
                say("destination muted after BUILT")


if __name__ == "__main__":
    main()
