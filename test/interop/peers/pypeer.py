#!/usr/bin/python3
"""Interop peer backed by pyzmq/libzmq, driven over stdin/stdout.

Run:  /usr/bin/python3 pypeer.py '<json spec>'

Spec (argv[1], JSON):
  {"type": "DEALER", "mode": "bind"|"connect", "endpoint": "tcp://127.0.0.1:*",
   "routingId": "<hex>"?, "subscribe": ["<hex>", ...]?, "linger": 0?,
   "reconnectIvl": 50?, "sndhwm": 1000?, "rcvhwm": 1000?}

Protocol: one JSON object per line. Events/replies are written to stdout,
one JSON object per line.
  startup  -> {"event": "ready", "endpoint": "<resolved endpoint>"}
  {"id": n, "cmd": "send", "frames": ["<hex>", ...], "timeout": ms}
  {"id": n, "cmd": "recv", "timeout": ms}       -> {"id", "ok", "frames"}
  {"id": n, "cmd": "subscribe", "topic": "<hex>"}
  {"id": n, "cmd": "unsubscribe", "topic": "<hex>"}
  {"id": n, "cmd": "restart"}                    -> {"id", "ok", "endpoint"}
  {"id": n, "cmd": "endpoint"}                   -> {"id", "ok", "endpoint"}
  {"id": n, "cmd": "exit"}
Every reply carries "ok"; failures carry "error" and, for timeouts,
"timeout": true. Commands run one at a time, in order. While idle the peer
reads ZMQ_EVENTS every 20 ms (see POKE_S). The process exits when stdin closes
(or on "exit"), closing its socket with linger 0.

"restart" closes the socket and terminates its context (so the old listener is
really gone), then opens a new socket on the same endpoint: for a bind, the
resolved one (same tcp port, same ipc path), retrying EADDRINUSE for up to 5 s.
"""
import json
import os
import select
import sys
import time

import zmq

# libzmq only attaches a new connection to a socket (and so only then sends
# e.g. an XSUB's or SUB's cached subscriptions to it) when the application
# thread calls into that socket. A real application sits in a poll loop; this
# peer mimics one by reading ZMQ_EVENTS every POKE_S seconds while idle.
POKE_S = 0.02

TYPES = {
    "PAIR": zmq.PAIR, "PUB": zmq.PUB, "SUB": zmq.SUB, "XPUB": zmq.XPUB,
    "XSUB": zmq.XSUB, "REQ": zmq.REQ, "REP": zmq.REP, "DEALER": zmq.DEALER,
    "ROUTER": zmq.ROUTER, "PUSH": zmq.PUSH, "PULL": zmq.PULL,
}


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Peer:
    def __init__(self, spec):
        self.spec = spec
        self.kind = spec["type"]
        self.mode = spec.get("mode", "bind")
        self.endpoint = spec["endpoint"]
        self.subscriptions = [bytes.fromhex(t) for t in spec.get("subscribe", [])]
        self.ctx = None
        self.sock = None

    def open(self, endpoint, bind_deadline=5.0):
        # One context per socket: ctx.term() on restart waits until the
        # listener is really gone (ipc file unlinked, tcp port released).
        self.ctx = zmq.Context()
        s = self.ctx.socket(TYPES[self.kind])
        s.setsockopt(zmq.LINGER, int(self.spec.get("linger", 0)))
        s.setsockopt(zmq.RECONNECT_IVL, int(self.spec.get("reconnectIvl", 50)))
        if "sndhwm" in self.spec:
            s.setsockopt(zmq.SNDHWM, int(self.spec["sndhwm"]))
        if "rcvhwm" in self.spec:
            s.setsockopt(zmq.RCVHWM, int(self.spec["rcvhwm"]))
        if self.spec.get("routingId"):
            s.setsockopt(zmq.ROUTING_ID, bytes.fromhex(self.spec["routingId"]))
        if self.kind == "ROUTER" and self.spec.get("mandatory"):
            s.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.sock = s
        if self.kind == "SUB":
            for t in self.subscriptions:
                s.setsockopt(zmq.SUBSCRIBE, t)
        if self.mode == "bind":
            deadline = time.monotonic() + bind_deadline
            while True:
                try:
                    s.bind(endpoint)
                    break
                except zmq.ZMQError as e:
                    if e.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            self.endpoint = s.getsockopt_string(zmq.LAST_ENDPOINT)
        else:
            s.connect(endpoint)
        if self.kind == "XSUB":
            for t in self.subscriptions:
                s.send(b"\x01" + t)

    def poke(self):
        if self.sock is not None:
            self.sock.getsockopt(zmq.EVENTS)

    def close(self):
        if self.sock is not None:
            self.sock.close(linger=0)
            self.sock = None
        if self.ctx is not None:
            self.ctx.term()
            self.ctx = None

    def restart(self):
        endpoint = self.endpoint
        self.close()
        self.open(endpoint)
        return self.endpoint

    def send(self, frames, timeout):
        self.sock.setsockopt(zmq.SNDTIMEO, int(timeout))
        try:
            self.sock.send_multipart(frames, copy=True)
        except zmq.Again:
            return {"ok": False, "timeout": True, "error": "send timed out"}
        return {"ok": True}

    def recv(self, timeout):
        if self.sock.poll(int(timeout), zmq.POLLIN) == 0:
            return {"ok": False, "timeout": True, "error": "receive timed out"}
        frames = self.sock.recv_multipart(flags=zmq.NOBLOCK)
        return {"ok": True, "frames": [f.hex() for f in frames]}

    def subscribe(self, topic, on):
        if on:
            if topic not in self.subscriptions:
                self.subscriptions.append(topic)
        elif topic in self.subscriptions:
            self.subscriptions.remove(topic)
        if self.kind == "SUB":
            self.sock.setsockopt(zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE, topic)
        elif self.kind == "XSUB":
            self.sock.send((b"\x01" if on else b"\x00") + topic)
        else:
            raise ValueError("subscribe on " + self.kind)


def handle(peer, msg):
    cmd = msg.get("cmd")
    timeout = msg.get("timeout", 5000)
    if cmd == "send":
        return peer.send([bytes.fromhex(f) for f in msg["frames"]], timeout)
    if cmd == "recv":
        return peer.recv(timeout)
    if cmd in ("subscribe", "unsubscribe"):
        peer.subscribe(bytes.fromhex(msg.get("topic", "")), cmd == "subscribe")
        return {"ok": True}
    if cmd == "restart":
        return {"ok": True, "endpoint": peer.restart()}
    if cmd == "endpoint":
        return {"ok": True, "endpoint": peer.endpoint}
    if cmd == "exit":
        return None
    return {"ok": False, "error": "unknown command %r" % (cmd,)}


def read_lines(poke):
    """Yield stdin lines; while idle, call poke() every POKE_S seconds."""
    fd = sys.stdin.fileno()
    buf = b""
    while True:
        nl = buf.find(b"\n")
        if nl >= 0:
            line, buf = buf[:nl], buf[nl + 1:]
            yield line.decode("utf-8")
            continue
        r, _, _ = select.select([fd], [], [], POKE_S)
        if not r:
            poke()
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return  # stdin closed
        buf += chunk


def main():
    spec = json.loads(sys.argv[1])
    peer = Peer(spec)
    try:
        peer.open(peer.endpoint)
    except Exception as e:  # report and die: the driver sees the error line
        out({"event": "error", "error": "%s: %s" % (type(e).__name__, e)})
        return 1
    out({"event": "ready", "endpoint": peer.endpoint,
         "libzmq": zmq.zmq_version(), "pyzmq": zmq.__version__})
    try:
        for line in read_lines(peer.poke):
            line = line.strip()
            if not line:
                continue
            msg = json.loads(line)
            try:
                reply = handle(peer, msg)
            except Exception as e:
                reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            if reply is None:
                out({"id": msg.get("id"), "ok": True})
                break
            reply["id"] = msg.get("id")
            out(reply)
    finally:
        peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
