/**
 * Property tests (fast-check): the parsers, fed arbitrary bytes split arbitrarily, only
 * ever throw WireError, and everything we encode decodes back to what went in.
 * On failure fast-check prints the seed and the shrunk counterexample.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { WireError } from "../../src/wire/errors.js";
import { FrameDecoder, FLAG_COMMAND, FLAG_MORE, type FrameSink } from "../../src/wire/frame-decoder.js";
import { encodeFrame, FrameBatch } from "../../src/wire/frame-encoder.js";
import {
  encodeCommandBody,
  encodeCommandFrame,
  encodeError,
  encodeMetadata,
  encodePing,
  parseCommand,
  parseErrorReason,
  parseMetadata,
  parsePing,
} from "../../src/wire/commands.js";
import { encodeGreeting, parseGreeting } from "../../src/wire/greeting.js";
import { decodeChunks, type DecodeResult, type FrameEvent } from "./helpers.js";

const NUM_RUNS = 300;

/** Cuts `input` at the given (arbitrary) points. */
function cut(input: Uint8Array, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (input.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    if (p > prev) out.push(Buffer.from(input.subarray(prev, p)));
    prev = Math.max(prev, p);
  }
  if (prev < input.length) out.push(Buffer.from(input.subarray(prev)));
  return out;
}

/** Runs fn and returns the WireError reason, or undefined; anything else thrown fails the property. */
function onlyWireError(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof WireError) return e.reason;
    throw new Error(`threw something other than WireError: ${String(e)}`, { cause: e });
  }
}

// Bounded limits: an unlimited decoder fed random LONG headers would really allocate up to
// 4 GiB; the unlimited case's refusals (2^63, > 2^53, > buffer limit) have their own tests.
const maxFrameSizeArb = fc.constantFrom(0, 1, 255, 256, 1000, 65536, 1 << 20);

const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  // Biased towards plausible frames: flags bytes from the interesting set, small sizes.
  fc
    .array(
      fc.oneof(
        fc.tuple(fc.constantFrom(0, 1, 4, 5, 0xf8, 0xff), fc.uint8Array({ maxLength: 40 })).map(([f, b]) => [f, b.length, ...b]),
        fc.tuple(fc.constantFrom(2, 3, 6, 7), fc.uint8Array({ maxLength: 8, minLength: 8 })).map(([f, b]) => [f, ...b]),
        fc.uint8Array({ maxLength: 5 }).map((b) => [...b]),
      ),
      { maxLength: 30 },
    )
    .map((parts) => Uint8Array.from(parts.flat())),
);

test("FrameDecoder on arbitrary bytes, arbitrarily split: only WireError, and the same result for every split", () => {
  fc.assert(
    fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 20 }), maxFrameSizeArb, (bytes, points, max) => {
      const whole = decodeChunks([Buffer.from(bytes)], max); // rethrows anything but WireError
      const split = decodeChunks(cut(bytes, points), max);
      assert.deepStrictEqual({ events: split.events, error: split.error }, { events: whole.events, error: whole.error });
      const byByte = decodeChunks(cut(bytes, Array.from({ length: bytes.length }, (_, i) => i)), max);
      assert.deepStrictEqual({ events: byByte.events, error: byByte.error }, { events: whole.events, error: whole.error });
      if (whole.error !== undefined) {
        assert.ok(
          ["ERR_ZMTP_MALFORMED_FRAME", "ERR_ZMTP_MESSAGE_TOO_LARGE"].includes(whole.error),
          `unexpected reason ${whole.error}`,
        );
      }
    }),
    { numRuns: NUM_RUNS },
  );
});

test("FrameDecoder with random pause/resume gives the same frames as without", () => {
  fc.assert(
    fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), (bytes, points, pauses) => {
      const whole = decodeChunks([Buffer.from(bytes)], 1000);
      const events: FrameEvent[] = [];
      let i = 0;
      let dec!: FrameDecoder;
      const sink: FrameSink = {
        onFrame(body, more) {
          events.push({ kind: "frame", more, body });
          if (pauses[i++ % pauses.length]) dec.pause();
        },
        onCommand(body) {
          events.push({ kind: "command", body });
          if (pauses[i++ % pauses.length]) dec.pause();
        },
      };
      dec = new FrameDecoder(sink, 1000);
      let error: string | undefined;
      for (const c of cut(bytes, points)) {
        error = onlyWireError(() => {
          dec.push(c);
          if (i % 3 === 0) while (dec.paused) dec.resume();
        });
        if (error !== undefined) break;
      }
      if (error === undefined) error = onlyWireError(() => { while (dec.paused) dec.resume(); });
      assert.deepStrictEqual({ events, error }, { events: whole.events, error: whole.error });
    }),
    { numRuns: NUM_RUNS },
  );
});

type Item =
  | { kind: "message"; frames: Uint8Array[] }
  | { kind: "command"; name: string; data: Uint8Array };

const bodyArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20000 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
);
const nameArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  fc.array(bodyArb, { minLength: 1, maxLength: 5 }).map((frames) => ({ kind: "message" as const, frames })),
  fc.tuple(nameArb, bodyArb).map(([name, data]) => ({ kind: "command" as const, name, data })),
);

function expectedEvents(items: Item[]): FrameEvent[] {
  const out: FrameEvent[] = [];
  for (const it of items) {
    if (it.kind === "command") out.push({ kind: "command", body: encodeCommandBody(it.name, it.data) });
    else it.frames.forEach((f, i) => out.push({ kind: "frame", more: i < it.frames.length - 1, body: Buffer.from(f) }));
  }
  return out;
}

test("encode → decode round-trips (FrameBatch with any copy threshold, encodeFrame, encodeCommandFrame; any split)", () => {
  fc.assert(
    fc.property(
      fc.array(itemArb, { maxLength: 12 }),
      fc.constantFrom(0, 1, 255, 256, 8192, 100000),
      fc.array(fc.nat(), { maxLength: 30 }),
      fc.array(fc.nat({ max: 12 }), { maxLength: 4 }),
      (items, threshold, points, takeAfter) => {
        const expected = expectedEvents(items);
        // Via FrameBatch, taking at arbitrary points.
        const batch = new FrameBatch(threshold);
        const chunks: Buffer[] = [];
        let bytes = 0;
        items.forEach((it, i) => {
          if (it.kind === "command") batch.append(encodeCommandBody(it.name, it.data), FLAG_COMMAND);
          else batch.appendMessage(it.frames);
          if (takeAfter.includes(i)) {
            bytes += batch.byteLength;
            chunks.push(...batch.take());
          }
        });
        bytes += batch.byteLength;
        chunks.push(...batch.take());
        const wire = Buffer.concat(chunks);
        assert.equal(wire.length, bytes);
        const viaBatch: DecodeResult = decodeChunks(cut(wire, points));
        assert.deepStrictEqual(viaBatch, { events: expected });
        // Via the one-shot encoders: identical bytes.
        const oneShot = Buffer.concat(
          items.flatMap((it) =>
            it.kind === "command"
              ? [encodeCommandFrame(it.name, it.data)]
              : it.frames.map((f, i) => encodeFrame(f, i < it.frames.length - 1 ? FLAG_MORE : 0)),
          ),
        );
        assert.deepEqual(oneShot, wire);
      },
    ),
    { numRuns: 200 },
  );
});

test("command parsers on arbitrary bytes: only WireError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const b = Buffer.from(bytes);
      for (const parse of [parseCommand, parseMetadata, parseErrorReason, parsePing, parseGreeting] as const) {
        onlyWireError(() => parse(b));
      }
      // Greeting prefixes too (the engine calls it on every partial greeting).
      for (let n = 0; n <= Math.min(b.length, 70); n++) onlyWireError(() => parseGreeting(b.subarray(0, n)));
    }),
    { numRuns: 1000 },
  );
});

test("command encoders round-trip: metadata, ERROR, PING, command bodies, greeting", () => {
  const propName = fc.stringMatching(/^[A-Za-z0-9\-_.+]{1,40}$/);
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(propName, fc.uint8Array({ maxLength: 300 })), { selector: (p) => p[0], maxLength: 8 }),
      fc.stringMatching(/^[ -~]{0,300}$/),
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ maxLength: 16 }),
      fc.stringMatching(/^[!-~]{1,20}$/),
      fc.boolean(),
      fc.integer({ min: 0, max: 255 }),
      (props, reason, ttl, context, mechanism, asServer, minor) => {
        const parsed = parseMetadata(encodeMetadata(props));
        assert.deepStrictEqual([...parsed], props.map(([k, v]) => [k, Buffer.from(v)]));

        const err = parseCommand(stripHeader(encodeError(reason)));
        assert.equal(err.name, "ERROR");
        assert.equal(parseErrorReason(err.data), reason.slice(0, 255));

        const ping = parseCommand(stripHeader(encodePing(ttl, context)));
        assert.equal(ping.name, "PING");
        assert.deepStrictEqual(parsePing(ping.data), { ttl, context: Buffer.from(context) });

        const g = parseGreeting(encodeGreeting(mechanism, asServer, minor));
        assert.deepStrictEqual(g, { state: "done", greeting: { major: 3, minor, mechanism, asServer }, consumed: 64 });
      },
    ),
    { numRuns: NUM_RUNS },
  );
});

function stripHeader(frame: Buffer): Buffer {
  const r = decodeChunks([frame]);
  assert.equal(r.events.length, 1);
  assert.equal(r.events[0]!.kind, "command");
  return r.events[0]!.body;
}
