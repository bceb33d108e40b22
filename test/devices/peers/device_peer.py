"""pyzmq (Debian: pyzmq 24 on libzmq 4.3.4) peers for the device interop tests.

Run with /usr/bin/python3 -u device_peer.py MODE JSON_ARGS. Every mode prints one JSON
object per line on stdout; every blocking call has a timeout; the parent kills us anyway.

Modes:
  clients  {"endpoint", "clients", "requests"}  REQ sockets; each sends "c<i>-r<k>" and
           expects a reply starting with it. Prints {"ok": true, "replies": [...]}.
  workers  {"endpoint", "workers", "seconds"}   REP sockets echoing b"<msg>|w<j>" until the
           time is up. Prints {"ready": true} once connected, {"served": [...]} at the end.
  monitored_queue {"in_type", "out_type"}       binds in/out/mon (PUB) on 127.0.0.1 random
           ports, prints {"in", "out", "mon"} (endpoints), then runs
           zmq.devices.monitored_queue(in, out, mon) until killed.
"""
import json
import sys
import time

import zmq

TYPES = {"ROUTER": zmq.ROUTER, "DEALER": zmq.DEALER}


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def clients(ctx, args):
    socks = []
    for _ in range(args["clients"]):
        s = ctx.socket(zmq.REQ)
        s.linger = 0
        s.rcvtimeo = 5000
        s.sndtimeo = 5000
        s.connect(args["endpoint"])
        socks.append(s)
    replies = []
    for k in range(args["requests"]):
        for i, s in enumerate(socks):
            s.send(("c%d-r%d" % (i, k)).encode())
        for i, s in enumerate(socks):
            reply = s.recv().decode()
            if not reply.startswith("c%d-r%d|" % (i, k)):
                say({"ok": False, "error": "client %d got %r for request %d" % (i, reply, k)})
                return
            replies.append(reply)
    say({"ok": True, "replies": replies})


def workers(ctx, args):
    socks = []
    poller = zmq.Poller()
    for _ in range(args["workers"]):
        s = ctx.socket(zmq.REP)
        s.linger = 0
        s.connect(args["endpoint"])
        poller.register(s, zmq.POLLIN)
        socks.append(s)
    say({"ready": True})
    served = [0] * len(socks)
    deadline = time.time() + args["seconds"]
    while time.time() < deadline:
        for s, _ in poller.poll(100):
            j = socks.index(s)
            msg = s.recv()
            s.send(msg + ("|w%d" % j).encode())
            served[j] += 1
    say({"served": served})


def monitored_queue(ctx, args):
    from zmq.devices import monitored_queue as mq

    ins = ctx.socket(TYPES[args["in_type"]])
    outs = ctx.socket(TYPES[args["out_type"]])
    mon = ctx.socket(zmq.PUB)
    ports = {}
    for name, s in (("in", ins), ("out", outs), ("mon", mon)):
        s.linger = 0
        port = s.bind_to_random_port("tcp://127.0.0.1")
        ports[name] = "tcp://127.0.0.1:%d" % port
    say(ports)
    mq(ins, outs, mon)


def publisher(ctx, args):
    """PUB connected to args["endpoint"]: publishes "a <n>" and "b <n>" every 10 ms for args["seconds"]."""
    pub = ctx.socket(zmq.PUB)
    pub.linger = 0
    pub.connect(args["endpoint"])
    say({"ready": True})
    end = time.time() + args["seconds"]
    n = 0
    while time.time() < end:
        pub.send_multipart([b"a", str(n).encode()])
        pub.send_multipart([b"b", str(n).encode()])
        n += 1
        time.sleep(0.01)


def subscriber(ctx, args):
    """SUB connected to args["endpoint"], subscribed to args["topic"]: prints the first args["count"] topics."""
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.rcvtimeo = 5000
    sub.setsockopt(zmq.SUBSCRIBE, args["topic"].encode())
    sub.connect(args["endpoint"])
    topics = []
    try:
        while len(topics) < args["count"]:
            topics.append(sub.recv_multipart()[0].decode())
    except zmq.Again:
        pass
    say({"topics": topics})


def main():
    mode = sys.argv[1]
    args = json.loads(sys.argv[2])
    ctx = zmq.Context()
    try:
        {"clients": clients, "workers": workers, "monitored_queue": monitored_queue,
         "publisher": publisher, "subscriber": subscriber}[mode](ctx, args)
    finally:
        ctx.destroy(linger=0)


if __name__ == "__main__":
    main()
