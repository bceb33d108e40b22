#!/usr/bin/env node
// Interop peer owning one socket of the npm `zeromq` package's draft build (libzmq
// 4.3.5 with drafts), driven by line-delimited JSON on stdin/stdout. It runs in its
// own Node process: Bun and Deno cannot load the addon in-process.
//
// Run:  node draftpeer.mjs '<json spec>'
//   spec: { type: "SERVER"|"CLIENT"|"RADIO"|"DISH"|"GATHER"|"SCATTER"|"DGRAM"|"CHANNEL"|"PEER",
//           mode: "bind"|"connect", endpoint, options?: {...} }
//   commands: send {frames: hex[], routingId?, group?: hex}, recv {timeout},
//             join/leave {group: hex}, exit. Replies echo `id`.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
process.removeAllListeners("warning"); // the draft module's "experimental" warning is expected
process.on("warning", () => {});
const zmq = require("zeromq");
const draft = require("zeromq/draft");

const TYPES = {
  SERVER: () => new draft.Server(), CLIENT: () => new draft.Client(),
  RADIO: () => new draft.Radio(), DISH: () => new draft.Dish(),
  GATHER: () => new draft.Gather(), SCATTER: () => new draft.Scatter(),
  DGRAM: () => new draft.Datagram(),
  // zeromq.js has no classes for these; the generic Socket takes libzmq's type number.
  PEER: () => new zmq.Socket(19), CHANNEL: () => new zmq.Socket(20),
};

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (s) => Buffer.from(s, "hex");

const spec = JSON.parse(process.argv[2]);
const make = TYPES[spec.type];
if (!make) throw new Error(`unknown type ${spec.type}`);
const sock = make();
sock.linger = 0;
for (const [k, v] of Object.entries(spec.options ?? {})) sock[k] = v;

// The generic Socket (PEER, CHANNEL) has no timeout accessors: set libzmq's options by number.
function setTimeoutOption(name, id, value) {
  if (name in sock) sock[name] = value;
  else sock.setInt32Option(id, value);
}

// zeromq.js's Dish.join calls the native method without its receiver, so call it directly.
const { join, leave } = zmq.Socket.prototype;

// libzmq attaches new connections when the application calls into the socket; an idle
// peer reads its events now and then, as one sitting in receive() would.
let busy = false;
setInterval(() => {
  if (!busy && !sock.closed) void sock.readable;
}, 20).unref();

async function handle(msg) {
  const timeout = msg.timeout ?? 5000;
  switch (msg.cmd) {
    case "send": {
      const frames = msg.frames.map(unhex);
      const meta = {};
      if (msg.routingId !== undefined) meta.routingId = msg.routingId;
      if (msg.group !== undefined) meta.group = unhex(msg.group);
      setTimeoutOption("sendTimeout", 28, timeout);
      const payload = frames.length === 1 ? frames[0] : frames;
      // zeromq.js checks the argument count: only SERVER and RADIO take the second one.
      if (Object.keys(meta).length > 0) await sock.send(payload, meta);
      else await sock.send(payload);
      return { ok: true };
    }
    case "recv": {
      setTimeoutOption("receiveTimeout", 27, timeout);
      const got = await sock.receive();
      const frames = [];
      const reply = { ok: true, frames };
      for (const part of got) {
        if (Buffer.isBuffer(part)) frames.push(hex(part));
        else if (part && typeof part === "object") {
          if (part.routingId !== undefined) reply.routingId = part.routingId;
          if (part.group !== undefined) reply.group = hex(part.group);
        }
      }
      return reply;
    }
    case "join":
      join.call(sock, unhex(msg.group));
      return { ok: true };
    case "leave":
      leave.call(sock, unhex(msg.group));
      return { ok: true };
    default:
      return { ok: false, error: `unknown command ${msg.cmd}` };
  }
}

async function main() {
  try {
    if (spec.mode === "bind") await sock.bind(spec.endpoint);
    else sock.connect(spec.endpoint);
  } catch (err) {
    out({ event: "error", error: String(err?.message ?? err), code: err?.code });
    process.exitCode = 1;
    sock.close();
    return;
  }
  out({ event: "ready", endpoint: sock.lastEndpoint ?? spec.endpoint, libzmq: zmq.version });
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    if (msg.cmd === "exit") {
      out({ id: msg.id, ok: true });
      break;
    }
    busy = true;
    let reply;
    try {
      reply = await handle(msg);
    } catch (err) {
      reply = { ok: false, error: String(err?.message ?? err), code: err?.code };
    } finally {
      busy = false;
    }
    out({ ...reply, id: msg.id });
  }
  rl.close();
  sock.close();
  process.stdin.destroy();
}

await main();
