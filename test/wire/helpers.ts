/** Shared helpers for the wire-layer tests: seeded splitting and a recording frame sink. */
import assert from "node:assert/strict";
import { WireError } from "../../src/wire/errors.js";
import { FrameDecoder, type FrameSink } from "../../src/wire/frame-decoder.js";

/** mulberry32: small seeded PRNG, returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits `input` at random points (each piece a copy, so pieces share no memory). */
export function randomSplit(input: Uint8Array, rand: () => number, maxPiece = Math.max(1, input.length >> 2)): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < input.length) {
    const n = Math.min(input.length - at, 1 + Math.floor(rand() * maxPiece));
    out.push(Buffer.from(input.subarray(at, at + n)));
    at += n;
  }
  return out;
}

export interface Feeding {
  name: string;
  chunks: Buffer[];
}

/** The same input three ways: in one piece, byte by byte, and in `randomRuns` seeded random splits. */
export function feedings(input: Uint8Array, seed = 1, randomRuns = 6): Feeding[] {
  const buf = Buffer.from(input);
  const bytes: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) bytes.push(buf.subarray(i, i + 1));
  const out: Feeding[] = [
    { name: "one piece", chunks: [buf] },
    { name: "byte by byte", chunks: bytes },
  ];
  for (let r = 0; r < randomRuns; r++) {
    const rand = rng(seed * 1000 + r);
    // Alternate between fine and coarse splits.
    const maxPiece = r % 2 === 0 ? 7 : Math.max(1, Math.floor(buf.length / 3));
    out.push({ name: `random split seed=${seed * 1000 + r}`, chunks: randomSplit(buf, rand, maxPiece) });
  }
  return out;
}

export type FrameEvent = { kind: "frame"; more: boolean; body: Buffer } | { kind: "command"; body: Buffer };

export class RecordingSink implements FrameSink {
  events: FrameEvent[] = [];
  onFrame(body: Buffer, more: boolean): void {
    this.events.push({ kind: "frame", more, body });
  }
  onCommand(body: Buffer): void {
    this.events.push({ kind: "command", body });
  }
}

export interface DecodeResult {
  events: FrameEvent[];
  /** WireError reason if decoding failed. */
  error?: string;
  /** Index of the chunk whose push threw. */
  errorChunk?: number;
}

/** Pushes the chunks into a fresh decoder, recording frames and the WireError (other errors are rethrown). */
export function decodeChunks(chunks: readonly Buffer[], maxFrameSize?: number): DecodeResult {
  const sink = new RecordingSink();
  const dec = new FrameDecoder(sink, maxFrameSize);
  for (let i = 0; i < chunks.length; i++) {
    try {
      dec.push(chunks[i]!);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      return { events: sink.events, error: e.reason, errorChunk: i };
    }
  }
  return { events: sink.events };
}

/**
 * Decodes `input` fed every way (one piece, byte by byte, random splits) and asserts the
 * output is identical each time and equal to `expected` (frames, then optional error).
 */
export function assertDecodesTo(
  input: Uint8Array,
  expected: { events: FrameEvent[]; error?: string },
  opts: { maxFrameSize?: number; seed?: number } = {},
): void {
  for (const f of feedings(input, opts.seed ?? 1)) {
    const got = decodeChunks(f.chunks, opts.maxFrameSize);
    assert.deepStrictEqual(
      { events: got.events, error: got.error },
      { events: expected.events, error: expected.error },
      `feeding: ${f.name}`,
    );
  }
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
export const frame = (body: Uint8Array, more = false): FrameEvent => ({ kind: "frame", more, body: Buffer.from(body) });
export const command = (body: Uint8Array): FrameEvent => ({ kind: "command", body: Buffer.from(body) });

export function assertWireError(fn: () => unknown, reason: string, message?: RegExp): WireError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WireError, `expected WireError ${reason}, got ${String(caught)}`);
  assert.equal(caught.reason, reason);
  if (message) assert.match(caught.message, message);
  return caught;
}
