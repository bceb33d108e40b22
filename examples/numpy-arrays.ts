/**
 * Arrays to and from numpy: sendArray / receiveArray speak pyzmq's send_array /
 * recv_array recipe (a JSON {"dtype", "shape"} frame, then the raw bytes, C order).
 * We bind a REQ, start a Python REP worker (/usr/bin/python3 with pyzmq and numpy),
 * send it a 3x4 Float64Array, and get back numpy's A @ A.T (3x3) and A.sum(axis=0).
 * Needs: apt-get install -y python3-zmq python3-numpy
 * Run: node --import tsx examples/numpy-arrays.ts
 */
import { spawn } from "node:child_process";
import * as zmq from "../src/index.js";

const PYTHON = `
import sys, zmq, numpy

def send_array(socket, A, flags=0):
    md = dict(dtype=str(A.dtype), shape=A.shape)
    socket.send_json(md, flags | zmq.SNDMORE)
    return socket.send(numpy.ascontiguousarray(A), flags, copy=False)

def recv_array(socket):
    md = socket.recv_json()
    msg = socket.recv(copy=False)
    return numpy.frombuffer(msg, dtype=md["dtype"]).reshape(md["shape"])

ctx = zmq.Context()
s = ctx.socket(zmq.REP)
s.connect(sys.argv[1])
A = recv_array(s)
print(f"python: got {A.dtype} {A.shape}", flush=True)
product = A @ A.T
sums = A.sum(axis=0)
s.send_json(dict(dtype=str(product.dtype), shape=product.shape), zmq.SNDMORE)
s.send(numpy.ascontiguousarray(product), zmq.SNDMORE, copy=False)
s.send_json(dict(dtype=str(sums.dtype), shape=sums.shape), zmq.SNDMORE)
s.send(numpy.ascontiguousarray(sums), copy=False)
s.close(); ctx.term()
`;

async function main(): Promise<void> {
  const req = new zmq.Request({ receiveTimeout: 10_000 });
  await req.bind("tcp://127.0.0.1:*");
  const py = spawn("/usr/bin/python3", ["-c", PYTHON, req.lastEndpoint!], { stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise<number | null>((resolve) => py.on("exit", resolve));

  const rows = 3, cols = 4;
  const data = Float64Array.from({ length: rows * cols }, (_, i) => i + 1);   // [[1..4],[5..8],[9..12]]
  await zmq.sendArray(req, { data, shape: [rows, cols] });
  console.log(`node: sent float64 [${rows}, ${cols}]`);

  // The reply carries two arrays; decodeArray takes one [metadata, bytes] pair at a time.
  const frames = await req.receive();
  const product = zmq.decodeArray(frames.slice(0, 2), { prefix: 0 });
  const sums = zmq.decodeArray(frames.slice(2, 4), { prefix: 0 });
  const m = product.array as Float64Array;
  const grid = Array.from({ length: product.shape[0]! }, (_, r) => `[${[...m.subarray(r * 3, r * 3 + 3)].join(", ")}]`);
  console.log(`node: A @ A.T is ${product.dtype} [${product.shape.join(", ")}]: ${grid.join(" ")}`);
  console.log(`node: A.sum(axis=0) is ${sums.dtype} [${sums.shape.join(", ")}]: [${[...(sums.array as Float64Array)].join(", ")}]`);

  // Check numpy's answer against our own.
  let ok = true;
  for (let r = 0; r < rows; r++) for (let c = 0; c < rows; c++) {
    let dot = 0;
    for (let k = 0; k < cols; k++) dot += data[r * cols + k]! * data[c * cols + k]!;
    if (m[r * rows + c] !== dot) ok = false;
  }
  const code = await exited;
  req.close();
  if (!ok || code !== 0) throw new Error(`mismatch (python exit ${code})`);
  console.log("numpy arrays: numpy's result matches");
}

main().catch((e) => { console.error(e); process.exit(1); });
