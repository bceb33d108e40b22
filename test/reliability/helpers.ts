/** Shared helpers of the reliability tests: raw loopback clients, memory, fds, gc. */
import { connect, type Socket as NetSocket } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { within } from "../helpers/util.js";

const here = fileURLToPath(new URL(".", import.meta.url));

/** A recorded libzmq NULL conversation (see data/record.ts). */
export function recording(name: "push" | "dealer" | "pub"): Buffer {
  return readFileSync(`${here}/data/null-${name}.bin`);
}

export function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

/** Opens a raw TCP client to 127.0.0.1:port; never throws asynchronously (errors are swallowed). */
export async function rawConnect(port: number, ms = 3000): Promise<NetSocket> {
  const s = connect({ host: "127.0.0.1", port });
  s.on("error", () => {});
  await within(new Promise<void>((resolve, reject) => {
    s.once("connect", () => resolve());
    s.once("close", () => reject(new Error("closed before connect")));
  }), ms, "raw connect");
  s.setNoDelay(true);
  s.resume(); // consume what we are sent, so the peer's end/close is seen (call pause() to stop reading)
  return s;
}

/**
 * How long a server keeps connections that stall in the handshake, measured on a few
 * connections opened one at a time: with no burst, the client's 'connect' callback runs
 * right after the server accepted, so the time from it to the close is the server's
 * lifetime for the connection, not less (in a burst of hundreds the callbacks can run
 * ~100 ms late on some runtimes and under load, which would make a correct server look
 * early). Half stay silent, half stop mid-greeting.
 */
export async function sequentialStallLifetimes(port: number, partialGreeting: Buffer, count = 4, ms = 5000): Promise<number[]> {
  const sockets: NetSocket[] = [];
  const lifetimes: Promise<number>[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = await rawConnect(port);
      const opened = performance.now();
      sockets.push(s);
      if (i % 2 === 1) s.write(partialGreeting);
      lifetimes.push(closedPromise(s).then(() => performance.now() - opened));
    }
    return (await within(Promise.all(lifetimes), ms, "stalled connections (one at a time) closed")).sort((a, b) => a - b);
  } finally {
    for (const s of sockets) s.destroy();
  }
}

export const closedPromise = (s: NetSocket): Promise<void> =>
  s.destroyed && s.closed ? Promise.resolve() : new Promise((r) => s.once("close", () => r()));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

let gcFn: (() => void) | null = null;
/** A real gc() even without --expose-gc on the command line (V8: Node, Deno; or Bun's). */
export function gc(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
    if (g) gcFn = g;
    else if (bun) gcFn = () => bun.gc(true); // JavaScriptCore: no V8 flags; Bun.gc(true) is a full, synchronous gc
    else {
      v8.setFlagsFromString("--expose-gc");
      gcFn = vm.runInNewContext("gc") as () => void;
    }
  }
  gcFn();
  gcFn();
}

/** heapUsed + external ArrayBuffers (Buffers live there), after a full gc. */
export async function settledMemory(): Promise<number> {
  await sleep(20);
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export const MiB = 1024 * 1024;
export const mib = (n: number) => `${(n / MiB).toFixed(2)} MiB`;
