#!/usr/bin/env node
// Interop peer backed by the npm `zeromq` package (libzmq 4.3.5), speaking
// the same stdin/stdout line protocol as pypeer.py (see there for details).
//
// Run:  node jspeer.mjs '<json spec>'
import { createInterface } from "node:readline";
import * as zmq from "zeromq";

const CLASSES = {
  PAIR: zmq.Pair,
  PUB: zmq.Publisher,
  SUB: zmq.Subscriber,
  XPUB: zmq.XPublisher,
  XSUB: zmq.XSubscriber,
  REQ: zmq.Request,
  REP: zmq.Reply,
  DEALER: zmq.Dealer,
  ROUTER: zmq.Router,
  PUSH: zmq.Push,
  PULL: zmq.Pull,
};

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (s) => Buffer.from(s, "hex");

const spec = JSON.parse(process.argv[2]);
const kind = spec.type;
const mode = spec.mode ?? "bind";
let endpoint = spec.endpoint;
let subscriptions = (spec.subscribe ?? []).map(unhex);
let sock = null;

async function open(ep) {
  const Cls = CLASSES[kind];
  if (!Cls) throw new Error(`unknown socket type ${kind}`);
  const opts = { linger: spec.linger ?? 0, reconnectInterval: spec.reconnectIvl ?? 50 };
  if (spec.sndhwm !== undefined) opts.sendHighWaterMark = spec.sndhwm;
  if (spec.rcvhwm !== undefined) opts.receiveHighWaterMark = spec.rcvhwm;
  const s = new Cls(opts);
  if (spec.routingId) {
    // zeromq.js types routingId as a string, but its setter also takes a
    // Buffer and passes the raw bytes through (a string would be UTF-8'd).
    s.routingId = unhex(spec.routingId);
  }
  if (kind === "ROUTER" && spec.mandatory) s.mandatory = true;
  sock = s;
  if (kind === "SUB") for (const t of subscriptions) s.subscribe(t);
  if (mode === "bind") {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await s.bind(ep);
        break;
      } catch (err) {
        if (err?.code !== "EADDRINUSE" || Date.now() > deadline) throw err;
        await sleep(20);
      }
    }
    endpoint = s.lastEndpoint ?? ep;
  } else {
    s.connect(ep);
  }
  if (kind === "XSUB") {
    for (const t of subscriptions) await sendFrames([Buffer.concat([Buffer.from([1]), t])], 5000);
  }
}

async function closeSock() {
  if (!sock) return;
  const s = sock;
  sock = null;
  s.close();
  // Nothing to wait for before binding again: this libzmq build neither
  // unlinks the ipc file when the listener closes (so it cannot remove a new
  // listener's file) nor refuses to bind over a stale one; tcp rebinds are
  // retried on EADDRINUSE in open().
}

// libzmq only attaches a new connection to a socket (and so only then sends
// e.g. an XSUB's or SUB's cached subscriptions to it) when the application
// calls into that socket, and zeromq.js only watches a socket while a send or
// receive is pending. A real application would sit in receive(); this peer
// mimics that by reading ZMQ_EVENTS (socket.readable) while idle -- and only
// while idle: ZMQ_FD is edge-triggered, and reading ZMQ_EVENTS while a
// send()/receive() waits on it can swallow the wake-up, stalling that call
// until its timeout.
const POKE_MS = 20;
let busy = false;
setInterval(() => {
  if (!busy && sock && !sock.closed) void sock.readable;
}, POKE_MS).unref();

async function sendFrames(frames, timeout) {
  sock.sendTimeout = timeout;
  try {
    await sock.send(frames);
  } catch (err) {
    if (err?.code === "EAGAIN") return { ok: false, timeout: true, error: "send timed out" };
    throw err;
  }
  return { ok: true };
}

async function recvFrames(timeout) {
  sock.receiveTimeout = timeout;
  try {
    const frames = await sock.receive();
    return { ok: true, frames: frames.map(hex) };
  } catch (err) {
    if (err?.code === "EAGAIN") return { ok: false, timeout: true, error: "receive timed out" };
    throw err;
  }
}

async function subscribe(topic, on) {
  subscriptions = subscriptions.filter((t) => !t.equals(topic));
  if (on) subscriptions.push(topic);
  if (kind === "SUB") {
    if (on) sock.subscribe(topic);
    else sock.unsubscribe(topic);
  } else if (kind === "XSUB") {
    return sendFrames([Buffer.concat([Buffer.from([on ? 1 : 0]), topic])], 5000);
  } else {
    throw new Error(`subscribe on ${kind}`);
  }
  return { ok: true };
}

async function handle(msg) {
  const timeout = msg.timeout ?? 5000;
  switch (msg.cmd) {
    case "send":
      return sendFrames(msg.frames.map(unhex), timeout);
    case "recv":
      return recvFrames(timeout);
    case "subscribe":
    case "unsubscribe":
      return subscribe(unhex(msg.topic ?? ""), msg.cmd === "subscribe");
    case "restart":
      await closeSock();
      await open(endpoint);
      return { ok: true, endpoint };
    case "endpoint":
      return { ok: true, endpoint };
    case "exit":
      return null;
    default:
      return { ok: false, error: `unknown command ${JSON.stringify(msg.cmd)}` };
  }
}

async function main() {
  try {
    await open(endpoint);
  } catch (err) {
    out({ event: "error", error: String(err?.stack ?? err) });
    process.exitCode = 1;
    return;
  }
  out({ event: "ready", endpoint, libzmq: zmq.version });

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  // Commands run strictly one after another: zeromq.js allows only one
  // pending send()/receive() per socket.
  for await (const line of rl) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    let reply;
    busy = true;
    try {
      reply = await handle(msg);
    } catch (err) {
      reply = { ok: false, error: String(err?.message ?? err), code: err?.code };
    } finally {
      busy = false;
    }
    if (reply === null) {
      out({ id: msg.id, ok: true });
      break;
    }
    out({ ...reply, id: msg.id });
  }
  rl.close();
  await closeSock();
  process.stdin.destroy();
}

await main();
