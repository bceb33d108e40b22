#!/usr/bin/python3
"""numpy/pyzmq side of test/arrays/numpy-interop.test.ts.

Run:  /usr/bin/python3 numpy_peer.py <endpoint>

Connects a PAIR socket to <endpoint> (bound by the Node test), then:
  1. sends the arrays in SENDS with pyzmq's documented recipe (send_array below,
     copied from the pyzmq docs "serialization" page);
  2. receives Node's arrays with the recipe's recv_array and checks them (the
     last one also byte-for-byte against what json.dumps would have written);
  3. checks, on a private inproc pair, what the recipe does with arrays that are
     not C-contiguous, and reports it as "facts".
Every result is one JSON object per line on stdout; the last is {"done": true}.
Every receive is bounded by RCVTIMEO; the process exits by itself.
"""
import json
import sys

import numpy
import zmq


# ---- the recipe, as the pyzmq docs give it -------------------------------------

def send_array(socket, A, flags=0, copy=True, track=False):
    """send a numpy array with metadata"""
    md = dict(
        dtype=str(A.dtype),
        shape=A.shape,
    )
    socket.send_json(md, flags | zmq.SNDMORE)
    return socket.send(A, flags, copy=copy, track=track)


def recv_array(socket, flags=0, copy=True, track=False):
    """recv a numpy array"""
    md = socket.recv_json(flags=flags)
    msg = socket.recv(flags=flags, copy=copy, track=track)
    buf = memoryview(msg)
    A = numpy.frombuffer(buf, dtype=md['dtype'])
    return A.reshape(md['shape'])


# ---- what we send, in this order (the Node test knows the same list) ----------

A23 = numpy.arange(6, dtype='float64').reshape(2, 3)

SENDS = [
    ("float64 2x3", A23 / 4 - 0.5),
    ("int32 extremes", numpy.array([-2**31, 2**31 - 1, 0, -1, 1], dtype='int32')),
    # Big-endian: str(dtype) is '>i4'; the bytes go as they are in memory.
    ("big-endian >i4", numpy.arange(6, dtype='>i4')),
    ("2 MiB float64", numpy.arange(262144, dtype='float64') * 0.25 - 1000.0),
    # A.T is Fortran-contiguous: pyzmq would send its memory (F order) and the recipe's
    # metadata has no order, so it must go C-contiguous: ascontiguousarray is what to send.
    ("transposed", numpy.ascontiguousarray(A23.T)),
    ("bool", numpy.array([True, False, True])),
    ("uint64 max", numpy.array([0, 2**64 - 1], dtype='uint64')),
    ("int16 2x3x4", numpy.arange(24, dtype='int16').reshape(2, 3, 4) - 12),
    ("big-endian >f8", numpy.array([1.5, -2.25, 1e300], dtype='>f8')),
    ("0-d float32", numpy.array(3.5, dtype='float32')),
]


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def check(name, fn):
    try:
        ok, detail = fn()
    except Exception as e:  # report, don't die: the Node side asserts on the report
        ok, detail = False, "%s: %s" % (type(e).__name__, e)
    out({"check": name, "ok": bool(ok), "detail": detail})


def facts():
    """What the recipe does with arrays that are not C-contiguous (private inproc pair)."""
    ctx = zmq.Context()
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.linger = b.linger = 0
    b.rcvtimeo = 2000
    a.bind("inproc://facts")
    b.connect("inproc://facts")
    result = {}
    try:
        T = A23.T  # F-contiguous view
        result["transpose_flags"] = {"C": bool(T.flags["C_CONTIGUOUS"]), "F": bool(T.flags["F_CONTIGUOUS"])}
        send_array(a, T)
        frames = b.recv_multipart()
        # The data frame is T's memory (Fortran order), not T.tobytes() (C order) ...
        result["transpose_bytes"] = frames[1] == T.tobytes(order="F") and frames[1] != T.tobytes()
        # ... and recv_array reads it back as C order.
        md = json.loads(frames[0])
        R = numpy.frombuffer(memoryview(frames[1]), dtype=md["dtype"]).reshape(md["shape"])
        result["transpose_roundtrip_equal"] = bool(numpy.array_equal(R, T))
        result["transpose_received"] = R.tolist()
        S = A23[:, ::2]  # neither C- nor F-contiguous
        try:
            send_array(a, S)
            result["slice_error"] = None
        except Exception as e:
            result["slice_error"] = "%s: %s" % (type(e).__name__, e)
            # The JSON frame went out with SNDMORE: the next send is glued to it.
            a.send(b"next")
            result["slice_leftover"] = [f.decode("latin1") for f in b.recv_multipart()]
    finally:
        a.close()
        b.close()
        ctx.term()
    return result


def main():
    endpoint = sys.argv[1]
    ctx = zmq.Context()
    s = ctx.socket(zmq.PAIR)
    s.linger = 2000
    s.rcvtimeo = 10000
    s.sndtimeo = 10000
    s.connect(endpoint)
    try:
        for name, A in SENDS:
            # The recipe's default copy=True, except the large one: zero-copy, as big arrays go.
            send_array(s, A, copy=A.nbytes < 65536)
        out({"sent": len(SENDS)})

        # Node: a Float32Array view at a non-zero byteOffset, shape [2, 3].
        def f32():
            A = recv_array(s)
            want = (numpy.arange(6, dtype="float32") + 2) * numpy.float32(1.5) - 2
            return (A.dtype == numpy.float32 and A.shape == (2, 3) and numpy.array_equal(A.ravel(), want),
                    "%s %s %s" % (A.dtype, A.shape, A.ravel().tolist()))
        check("float32 with byteOffset", f32)

        # Node: a BigInt64Array with the int64 extremes.
        def i64():
            A = recv_array(s)
            want = [-2**63, 2**63 - 1, 0, -1, 42]
            return (A.dtype == numpy.int64 and A.shape == (5,) and A.tolist() == want,
                    "%s %s %s" % (A.dtype, A.shape, A.tolist()))
        check("int64 extremes", i64)

        # Node: float64 2x3 with metadata; the JSON frame must be what json.dumps writes.
        def exact():
            frames = s.recv_multipart()
            md = json.loads(frames[0])
            A = numpy.frombuffer(memoryview(frames[1]), dtype=md["dtype"]).reshape(md["shape"])
            mine = json.dumps(dict(dtype=str(A.dtype), shape=A.shape, name=md.get("name"))).encode()
            return (frames[0] == mine and A.tolist() == [[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]],
                    "node %r python %r" % (frames[0], mine))
        check("metadata bytes identical to json.dumps", exact)

        # Node: a Uint8Array declared "bool".
        def booleans():
            A = recv_array(s)
            return A.dtype == numpy.bool_ and A.tolist() == [True, False, True], "%s %s" % (A.dtype, A.tolist())
        check("bool", booleans)

        # Node: 2 MiB of float64 over the same connection.
        def big():
            A = recv_array(s)
            want = numpy.arange(262144, dtype="float64") * 0.5 + 7
            return A.dtype == numpy.float64 and A.shape == (512, 512) and numpy.array_equal(A.ravel(), want), \
                "%s %s" % (A.dtype, A.shape)
        check("2 MiB float64", big)

        out({"facts": facts()})
    finally:
        s.close()
        ctx.term()
    out({"done": True})


if __name__ == "__main__":
    main()
