/**
 * Worker-thread body for threads.test.ts and bench/arrays.ts: one socket in its own
 * thread (so its own Context), moving Float64Arrays with sendArray/receiveArray.
 *
 *   workerData = { role: "receiver", endpoint }      binds a PULL, posts {ready, endpoint}
 *   workerData = { role: "sender", endpoint }        connects a PUSH, posts {ready}
 *
 * Then, driven by parentPort messages:
 *   receiver: each message received posts {received, at, ok, copied, bytes}
 *   sender:   {send: {elements, seed}} -> fills, stamps `at`, sends, posts {sent, at}
 *   both:     {close: true} -> closes the socket and exits
 * `at` is performance.timeOrigin + performance.now(): comparable across threads.
 */
import { parentPort, workerData } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import * as zmq from "../../src/index.js";
import { sendArray, receiveArray } from "../../src/arrays/index.js";

interface Data {
  role: "receiver" | "sender";
  endpoint: string;
}

const now = () => performance.timeOrigin + performance.now();
const port = parentPort!;
const { role, endpoint } = workerData as Data;

/** The value at index i of the array for `seed`. */
const valueAt = (i: number, seed: number) => i * 0.5 + seed;

if (role === "receiver") {
  const pull = new zmq.Pull({ linger: 0 });
  await pull.bind(endpoint);
  port.postMessage({ ready: true, endpoint: pull.lastEndpoint });
  port.on("message", (m: { close?: boolean }) => {
    if (m.close) pull.close();
  });
  for (;;) {
    let got;
    try {
      got = await receiveArray(pull);
    } catch (e) {
      if (pull.closed) break;
      throw e;
    }
    const at = now();
    const a = got.array as Float64Array;
    const seed = Number(got.metadata.seed);
    let ok = a instanceof Float64Array;
    for (let i = 0; ok && i < a.length; i++) if (a[i] !== valueAt(i, seed)) ok = false;
    port.postMessage({ received: true, at, ok, copied: got.copied, bytes: a.byteLength, shape: got.shape });
  }
  port.close();
} else {
  const push = new zmq.Push({ linger: 0 });
  push.connect(endpoint);
  port.postMessage({ ready: true });
  port.on("message", (m: { close?: boolean; send?: { elements: number; seed: number } }) => {
    if (m.close) {
      push.close();
      port.close();
      return;
    }
    if (!m.send) return;
    const { elements, seed } = m.send;
    const a = new Float64Array(elements);
    for (let i = 0; i < elements; i++) a[i] = valueAt(i, seed);
    const at = now();
    sendArray(push, { data: a, shape: [elements / 1024, 1024] }, { metadata: { seed } }).then(
      () => port.postMessage({ sent: true, at }),
      (e: Error) => port.postMessage({ error: e.message }),
    );
  });
}
