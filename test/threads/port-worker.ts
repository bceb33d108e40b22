/**
 * Worker-thread body for the MessagePort transport tests (port.test.ts). One or two
 * zmq-ts sockets in this thread's own Context, each joined by attachPort to a socket
 * of the main thread. `workerData.role` picks what it does; parentPort carries the
 * test's commands and this thread's reports.
 *
 *   push-big   {port, copyPort, elements}  PUSH (transfer) on port, PUSH (copy) on copyPort.
 *              {send: {seed, copy?}} fills a Float64Array, stamps `at`, sends -> {sent, at}
 *              {report} -> {byteLength} of the last array sent (0 once transferred)
 *   pull-sab   {port}  PULL: receives [header, array]; checks it is on a SharedArrayBuffer,
 *              writes into it -> {written, shared, ok, length}
 *   rep        {port}  REP: replies to each request with its frames reversed, "!" appended
 *   dealer     {port, name}  DEALER with routingId name: sends ["hello", name], reports {reply}
 *   pub        {port}  PUB: reports the refusal {refused, address, message}
 *   pull-close {port}  PULL: {got} on each message; {close} closes the socket -> {closed}
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import * as zmq from "../../src/index.js";
import { attachPort } from "../../src/transport/port.js";
import { now } from "./clock.js";

interface Data {
  role: string;
  port: MessagePort;
  copyPort?: MessagePort;
  elements?: number;
  name?: string;
}

type Command = { send?: { seed: number; copy?: boolean }; report?: boolean; close?: boolean };

const parent = parentPort!;
const data = workerData as Data;
const post = (m: unknown) => parent.postMessage(m);
const valueAt = (i: number, seed: number) => i * 0.5 + seed;
const fail = (e: unknown) => post({ error: e instanceof Error ? e.message : String(e) });

switch (data.role) {
  case "push-big": {
    const push = new zmq.Push({ linger: 0 });
    attachPort(push, data.port, { transfer: true });
    const copying = new zmq.Push({ linger: 0 });
    attachPort(copying, data.copyPort!);
    let last: Float64Array | null = null;
    parent.on("message", (m: Command) => {
      if (m.report) post({ byteLength: last?.byteLength ?? -1 });
      if (!m.send) return;
      const a = new Float64Array(data.elements!);
      for (let i = 0; i < a.length; i++) a[i] = valueAt(i, m.send.seed);
      last = a;
      const at = now();
      (m.send.copy ? copying : push).send(a).then(() => post({ sent: true, at }), fail);
    });
    post({ ready: true });
    break;
  }

  case "pull-sab": {
    const pull = new zmq.Pull({ linger: 0 });
    attachPort(pull, data.port);
    post({ ready: true });
    pull.receive().then(([header, frame]) => {
      const seed = Number(header!.toString());
      const shared = frame!.buffer instanceof SharedArrayBuffer;
      const a = new Float64Array(frame!.buffer, frame!.byteOffset, frame!.byteLength / 8);
      let ok = true;
      for (let i = 0; ok && i < a.length; i++) if (a[i] !== valueAt(i, seed)) ok = false;
      // Written here, read by the main thread in its own array.
      a[0] = -1;
      a[a.length - 1] = -2;
      post({ written: true, shared, ok, length: a.length });
    }, fail);
    break;
  }

  case "rep": {
    const rep = new zmq.Reply({ linger: 0 });
    attachPort(rep, data.port);
    post({ ready: true });
    (async () => {
      for (;;) {
        const req = await rep.receive();
        await rep.send([...req.reverse(), "!"]);
      }
    })().catch((e) => {
      if (!rep.closed) fail(e);
    });
    break;
  }

  case "dealer": {
    const dealer = new zmq.Dealer({ linger: 0, routingId: data.name! });
    attachPort(dealer, data.port);
    post({ ready: true });
    (async () => {
      await dealer.send(["hello", data.name!]);
      const reply = await dealer.receive();
      post({ reply: reply.map(String) });
    })().catch(fail);
    break;
  }

  case "pub": {
    const pub = new zmq.Publisher({ linger: 0 });
    pub.events.on("handshake:error:protocol", (e) => post({ refused: true, address: e.address, message: e.error.message }));
    attachPort(pub, data.port);
    post({ ready: true });
    break;
  }

  case "pull-close": {
    const pull = new zmq.Pull({ linger: 0 });
    attachPort(pull, data.port);
    parent.on("message", (m: Command) => {
      if (!m.close) return;
      pull.close();
      post({ closed: true });
    });
    post({ ready: true });
    (async () => {
      for (;;) {
        const msg = await pull.receive();
        post({ got: msg.map(String) });
      }
    })().catch((e) => {
      if (!pull.closed) fail(e);
    });
    break;
  }

  default:
    fail(`unknown role ${data.role}`);
}
