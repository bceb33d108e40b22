"""A pyzmq CURVE REQ client whose keys come from certificate files (zmq.auth.load_certificate).

argv[1]: JSON {endpoint, client_secret_file, server_public_file, timeout_ms}.
Sends "ping" and prints one JSON line: {"reply": [frames...]} or {"error": "timeout"}.
"""
import json
import sys

import zmq
import zmq.auth

spec = json.loads(sys.argv[1])
ctx = zmq.Context()
sock = ctx.socket(zmq.REQ)
sock.linger = 0
sock.rcvtimeo = spec.get("timeout_ms", 5000)
public, secret = zmq.auth.load_certificate(spec["client_secret_file"])
server_public, _ = zmq.auth.load_certificate(spec["server_public_file"])
sock.curve_publickey = public
sock.curve_secretkey = secret
sock.curve_serverkey = server_public
sock.connect(spec["endpoint"])
sock.send(b"ping")
try:
    print(json.dumps({"reply": [f.decode() for f in sock.recv_multipart()]}), flush=True)
except zmq.Again:
    print(json.dumps({"error": "timeout"}), flush=True)
sock.close(0)
ctx.term()
