"""libzmq (Debian's pyzmq) side of test/reliability/reference.test.ts.

Run with /usr/bin/python3. One JSON object per line on stdout; commands as JSON lines on stdin.
  reference.py router  -> binds a ROUTER (HANDSHAKE_IVL 300 ms) on 127.0.0.1, prints {"port"}, echoes every message
  reference.py pub     -> binds a PUB (SNDHWM 100), prints {"port"}, then serves commands:
                          {"cmd":"join"} sends "join"; {"cmd":"send","from":i,"count":n,"size":s} publishes
                          n messages of s bytes numbered from i (uint32 BE); {"cmd":"rss"} reports VmRSS
  reference.py hwm     -> inproc PUSH->PULL, default HWMs: prints {"sent"} (sends before EAGAIN with NOBLOCK)
"""
import json
import os
import struct
import sys

import zmq


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


def router(ctx):
    s = ctx.socket(zmq.ROUTER)
    s.setsockopt(zmq.HANDSHAKE_IVL, 300)
    s.setsockopt(zmq.LINGER, 0)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    out({"port": port, "libzmq": zmq.zmq_version()})
    while True:
        s.send_multipart(s.recv_multipart())


def pub(ctx):
    s = ctx.socket(zmq.PUB)
    s.setsockopt(zmq.SNDHWM, 100)
    s.setsockopt(zmq.LINGER, 0)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    out({"port": port, "libzmq": zmq.zmq_version(), "rss": rss()})
    for line in sys.stdin:
        cmd = json.loads(line)
        c = cmd["cmd"]
        if c == "join":
            s.send(b"join")
            out({"ok": True})
        elif c == "send":
            size = cmd["size"]
            for i in range(cmd["from"], cmd["from"] + cmd["count"]):
                s.send(struct.pack(">I", i) + bytes(size - 4))
            out({"ok": True})
        elif c == "rss":
            out({"rss": rss()})
        elif c == "quit":
            return


def hwm(ctx):
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    pull.bind("inproc://hwm")
    push.connect("inproc://hwm")
    sent = 0
    while sent < 10000:
        try:
            push.send(str(sent).encode(), zmq.NOBLOCK)
        except zmq.Again:
            break
        sent += 1
    got = 0
    while True:
        try:
            pull.recv(zmq.NOBLOCK)
            got += 1
        except zmq.Again:
            break
    out({"sent": sent, "received": got, "libzmq": zmq.zmq_version()})
    push.close(0)
    pull.close(0)


if __name__ == "__main__":
    ctx = zmq.Context()
    try:
        {"router": router, "pub": pub, "hwm": hwm}[sys.argv[1]](ctx)
    except KeyboardInterrupt:
        pass
    finally:
        os._exit(0)
