/** Shared bits of the device tests. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type * as zmq from "../../src/index.js";
import { within, endpointFor } from "../helpers/util.js";

export const T = 5000;

/** Binds `sock` to a fresh endpoint of the transport; returns the address to connect to. */
export async function bindFresh(sock: zmq.Socket, transport: "tcp" | "ipc" | "inproc"): Promise<string> {
  const ep = endpointFor(transport);
  await sock.bind(ep);
  return transport === "tcp" ? (sock as unknown as { lastEndpoint: string }).lastEndpoint : ep;
}

/** Receives exactly n messages within ms. */
export async function receiveN(sock: { receive(): Promise<Buffer[]> }, n: number, ms = T, what = `${n} messages`): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  await within((async () => {
    while (out.length < n) out.push(await sock.receive());
  })(), ms, `${what} (got ${out.length})`);
  return out;
}

/** Asserts nothing arrives within ms (the socket's receiveTimeout is used and restored). */
export async function assertSilent(sock: { receive(): Promise<Buffer[]>; receiveTimeout: number }, ms: number, what: string): Promise<void> {
  const saved = sock.receiveTimeout;
  sock.receiveTimeout = ms;
  try {
    const got = await sock.receive().then((m) => m, (e: zmq.ZmqError) => e);
    if (Array.isArray(got)) assert.fail(`${what}: unexpectedly received ${got.map((f) => f.toString()).join("|")}`);
    assert.equal(got.code, "EAGAIN");
  } finally {
    sock.receiveTimeout = saved;
  }
}

/** Retries `attempt` every `every` ms until it returns true, within ms. */
export async function until(attempt: () => Promise<boolean> | boolean, ms: number, what: string, every = 20): Promise<void> {
  await within((async () => {
    for (;;) {
      if (await attempt()) return;
      await sleep(every);
    }
  })(), ms, what);
}

/** The message as strings. */
export const strs = (m: Buffer[]) => m.map((f) => f.toString());

/**
 * Closes every socket given that is still open, with linger 0: by then a passing test
 * has had everything delivered, and a failing one must not keep the process alive.
 */
export function closeAll(...socks: Array<{ close(): void; closed: boolean; linger: number } | null | undefined>): void {
  for (const s of socks) {
    if (!s || s.closed) continue;
    s.linger = 0;
    s.close();
  }
}
