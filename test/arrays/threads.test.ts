/**
 * Arrays between worker threads of one process. A Context (and so an inproc
 * namespace) belongs to one thread, so threads talk over ipc or tcp: each worker
 * here owns one socket (thread-worker.ts) and an 8 MiB Float64Array goes from one
 * to the other, verified element by element; the times are reported as diagnostics.
 * Within one thread, inproc hands over the memory itself (send-receive.test.ts:
 * a SharedArrayBuffer-backed array arrives as the same shared memory).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Worker } from "node:worker_threads";
import { endpointFor } from "../helpers/util.js";
import { startTsWorker, nextMessage } from "./ts-worker.js";

const WORKER = new URL("./thread-worker.ts", import.meta.url);
const START_MS = 15000;
const T = 5000;
const ELEMENTS = (8 << 20) / 8; // 8 MiB of float64
const REPS = 4;

type Msg = { ready?: boolean; endpoint?: string; sent?: boolean; received?: boolean; error?: string; at?: number; ok?: boolean; copied?: boolean; bytes?: number; shape?: number[] };

async function stop(w: Worker | undefined): Promise<void> {
  if (!w) return;
  w.postMessage({ close: true });
  await w.terminate();
}

describe("arrays between worker threads", () => {
  for (const transport of ["ipc", "tcp"] as const) {
    test(`two worker threads exchange an 8 MiB Float64Array over ${transport}`, async (t) => {
      let receiver: Worker | undefined;
      let sender: Worker | undefined;
      try {
        receiver = startTsWorker(WORKER, { role: "receiver", endpoint: endpointFor(transport) });
        const ready = await nextMessage<Msg>(receiver, (m) => m.ready === true, START_MS, "receiver ready");
        sender = startTsWorker(WORKER, { role: "sender", endpoint: ready.endpoint });
        await nextMessage<Msg>(sender, (m) => m.ready === true, START_MS, "sender ready");
        const ms: number[] = [];
        for (let rep = 0; rep < REPS; rep++) {
          const gotP: Promise<Msg> = nextMessage<Msg>(receiver, (m) => m.received === true, T, `array #${rep} received`);
          const sentP: Promise<Msg> = nextMessage<Msg>(sender, (m) => m.sent === true || m.error !== undefined, T, `array #${rep} sent`);
          sender.postMessage({ send: { elements: ELEMENTS, seed: rep } });
          const [sent, got]: [Msg, Msg] = await Promise.all([sentP, gotP]);
          assert.equal(sent.error, undefined);
          assert.equal(got.ok, true, "every element arrived as sent");
          assert.equal(got.bytes, 8 << 20);
          assert.deepEqual(got.shape, [1024, 1024]);
          assert.equal(got.copied, false, "the 8 MiB frame was assembled aligned and used in place");
          ms.push(got.at! - sent.at!);
        }
        const warm = ms.slice(1).sort((a, b) => a - b);
        t.diagnostic(
          `${transport}: 8 MiB Float64Array thread -> thread: first ${ms[0]!.toFixed(1)} ms (includes connecting), ` +
            `then best ${warm[0]!.toFixed(1)} ms, median ${warm[warm.length >> 1]!.toFixed(1)} ms ` +
            `(${((8 / 1024) / (warm[0]! / 1000)).toFixed(2)} GiB/s)`,
        );
      } finally {
        await Promise.all([stop(sender), stop(receiver)]);
      }
    });
  }

  test("inproc does not cross threads: each thread has its own Context, so nothing arrives", async () => {
    let receiver: Worker | undefined;
    let sender: Worker | undefined;
    try {
      const name = endpointFor("inproc");
      receiver = startTsWorker(WORKER, { role: "receiver", endpoint: name });
      await nextMessage<Msg>(receiver, (m) => m.ready === true, START_MS, "receiver ready");
      sender = startTsWorker(WORKER, { role: "sender", endpoint: name });
      await nextMessage<Msg>(sender, (m) => m.ready === true, START_MS, "sender ready");
      sender.postMessage({ send: { elements: 1024, seed: 1 } });
      await assert.rejects(
        nextMessage<Msg>(receiver, (m) => m.received === true, 300, "an inproc array from another thread"),
        /timed out/,
      );
    } finally {
      await Promise.all([stop(sender), stop(receiver)]);
    }
  });
});
