"""A pyzmq peer for the epgm interop tests.

pub <endpoint> <count> <rate>: sends <count> messages "msg <i>" (plus a 3000-byte
  one every 50th), then waits for the repairs to settle and exits.
sub <endpoint> <count> <timeout_ms> <rate>: receives until <count> messages or the
  timeout, prints each received message's index on one line as "got <i> <len>", then "done <n>".
"""
import sys, time
import zmq

mode, ep = sys.argv[1], sys.argv[2]
ctx = zmq.Context()
if mode == "pub":
    count, rate = int(sys.argv[3]), int(sys.argv[4])
    s = ctx.socket(zmq.PUB)
    s.setsockopt(zmq.RATE, rate)
    s.setsockopt(zmq.LINGER, 3000)
    s.connect(ep)
    print("ready", flush=True)
    sys.stdin.readline()  # the test says go once its subscriber is up
    for i in range(count):
        s.send_multipart([b"t", b"msg %d" % i + (b"x" * 3000 if i % 50 == 49 else b"")])
        time.sleep(0.002)
    time.sleep(float(sys.argv[5]) if len(sys.argv) > 5 else 2.0)
    print("sent %d" % count, flush=True)
    s.close()
else:
    count, timeout, rate = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = ctx.socket(zmq.SUB)
    s.setsockopt(zmq.RATE, rate)
    s.setsockopt(zmq.SUBSCRIBE, b"t")
    s.setsockopt(zmq.RCVTIMEO, 200)
    s.connect(ep)
    print("ready", flush=True)
    n = 0
    deadline = time.time() + timeout / 1000.0
    while n < count and time.time() < deadline:
        try:
            parts = s.recv_multipart()
        except zmq.Again:
            continue
        n += 1
        print("got %s %d" % (parts[1][4:].split(b"x")[0].decode(), len(parts[1])), flush=True)
    print("done %d" % n, flush=True)
    s.close(linger=0)
ctx.term()
