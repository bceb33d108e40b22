"""A pyzmq (libzmq 4.3.4) peer for the security interop tests.

argv[1] is a JSON spec:
  {"role": "server", "mechanism": "curve"|"plain", "secret": Z85, "public": Z85,
   "allow_keys": [Z85...] | null (null = any), "passwords": {"user": "pass"}}
     binds a REP on tcp://127.0.0.1:*, prints {"endpoint": ...}, echoes each request
     with "echo:" in front, until stdin closes. zmq.auth's ThreadAuthenticator decides.
  {"role": "client", "mechanism": ..., "endpoint": ..., "server_key": Z85, "public": Z85,
   "secret": Z85, "username": ..., "password": ...}
     connects a REQ, sends "ping", prints {"reply": ...} or {"error": "timeout"}, exits.
  {"role": "keypair"}: prints a fresh {"public", "secret"} from zmq.curve_keypair().
"""
import json
import sys
import threading

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

spec = json.loads(sys.argv[1])
ctx = zmq.Context.instance()


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if spec["role"] == "keypair":
    public, secret = zmq.curve_keypair()
    out({"public": public.decode(), "secret": secret.decode()})
    sys.exit(0)

if spec["role"] == "server":
    auth = ThreadAuthenticator(ctx)
    auth.start()
    sock = ctx.socket(zmq.REP)
    if spec["mechanism"] == "curve":
        allow = spec.get("allow_keys")
        if allow is None:
            auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
        else:
            class Provider:
                def callback(self, domain, key):
                    # pyzmq hands the key Z85-encoded (40 bytes); accept raw 32 bytes too.
                    text = key.decode() if len(key) == 40 else zmq.utils.z85.encode(key).decode()
                    return text in allow
            auth.configure_curve_callback(domain="*", credentials_provider=Provider())
        sock.curve_server = True
        sock.curve_secretkey = spec["secret"].encode()
        sock.curve_publickey = spec["public"].encode()
    else:
        auth.configure_plain(domain="*", passwords=spec["passwords"])
        sock.plain_server = True
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    out({"endpoint": "tcp://127.0.0.1:%d" % port})
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.is_set():
        if sock.poll(50):
            msg = sock.recv_multipart()
            sock.send_multipart([b"echo:" + msg[0]] + msg[1:])
    sock.close(linger=0)
    auth.stop()
    ctx.term()
    sys.exit(0)

# client
sock = ctx.socket(zmq.REQ)
sock.linger = 0
if spec["mechanism"] == "curve":
    sock.curve_serverkey = spec["server_key"].encode()
    sock.curve_publickey = spec["public"].encode()
    sock.curve_secretkey = spec["secret"].encode()
else:
    sock.plain_username = spec["username"].encode()
    sock.plain_password = spec["password"].encode()
sock.connect(spec["endpoint"])
sock.send(b"ping")
if sock.poll(int(spec.get("timeout_ms", 3000))):
    out({"reply": sock.recv().decode()})
else:
    out({"error": "timeout"})
sock.close()
ctx.term()
