/** Shared helpers for the mechanism tests: frame splitting and an in-memory handshake pump. */
import assert from "node:assert/strict";
import { WireError } from "../../src/wire/errors.js";
import type { Command } from "../../src/wire/commands.js";
import { parseHandshakeCommand } from "../../src/mechanism/plain.js";
import type { Mechanism, MechanismOptions } from "../../src/mechanism/mechanism.js";
import { loadCrypto } from "../../src/crypto/box.js";

// libsodium loads on demand (sockets do it when CURVE is configured); these tests use it directly.
await loadCrypto();

export const dealer: MechanismOptions = { socketType: "DEALER", routingId: null, accepted: false };
export const router: MechanismOptions = { socketType: "ROUTER", routingId: null, accepted: true };

/** Splits one whole ZMTP frame into its flags and body (and checks it is exactly one frame). */
export function splitFrame(frame: Buffer): { flags: number; body: Buffer } {
  const flags = frame[0]!;
  let size: number;
  let at: number;
  if (flags & 0x02) {
    size = Number(frame.readBigUInt64BE(1));
    at = 9;
  } else {
    size = frame[1]!;
    at = 2;
  }
  assert.equal(frame.length, at + size, "one whole frame");
  return { flags, body: frame.subarray(at) };
}

/** The command in a command frame (asserts the COMMAND flag); understands libzmq's PLAIN ERROR form. */
export function commandOf(frame: Buffer): Command {
  const { flags, body } = splitFrame(frame);
  assert.ok(flags & 0x04, "COMMAND flag set");
  return parseHandshakeCommand(body);
}

/** Everything `m` wants to send now. */
export function drain(m: Mechanism): Buffer[] {
  const out: Buffer[] = [];
  let f: Buffer | null;
  while ((f = m.nextCommand()) !== null) out.push(f);
  return out;
}

/**
 * Runs a handshake in memory: each side's nextCommand() frames go to the other's
 * processCommand(), until neither has anything to send. `tap` sees (and may replace)
 * every frame on its way. Returns the frames in the order they travelled.
 */
export function pump(
  client: Mechanism,
  server: Mechanism,
  tap?: (from: "client" | "server", frame: Buffer) => Buffer,
): { from: "client" | "server"; frame: Buffer }[] {
  const log: { from: "client" | "server"; frame: Buffer }[] = [];
  for (let round = 0; round < 20; round++) {
    let moved = false;
    for (const [from, src, dst] of [
      ["client", client, server],
      ["server", server, client],
    ] as const) {
      for (let frame of drain(src)) {
        if (tap) frame = tap(from, frame);
        log.push({ from, frame });
        dst.processCommand(commandOf(frame));
        moved = true;
      }
    }
    if (!moved) return log;
  }
  throw new Error("handshake does not settle");
}

export function assertWire(fn: () => unknown, reason: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof WireError, `expected WireError ${reason}, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    return true;
  });
}

/** A promise plus its resolve function, for ZAP handlers answered by the test. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks (a ZAP answer) run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
