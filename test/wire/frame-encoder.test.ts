import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameBatch, frameHeaderSize, writeFrameHeader } from "../../src/wire/frame-encoder.js";
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE } from "../../src/wire/frame-decoder.js";
import { assertDecodesTo, command, decodeChunks, frame, hex } from "./helpers.js";

function header(flags: number, size: number): string {
  const b = Buffer.alloc(9);
  return b.subarray(0, writeFrameHeader(b, 0, flags, size)).toString("hex");
}

test("frameHeaderSize: 2 up to 255 bytes, 9 above", () => {
  assert.deepEqual([0, 1, 255, 256, 300, 1 << 20].map(frameHeaderSize), [2, 2, 2, 9, 9, 9]);
});

test("golden frame headers", () => {
  assert.equal(header(0, 0), "0000");
  assert.equal(header(FLAG_MORE, 0), "0100");
  assert.equal(header(0, 255), "00ff");
  assert.equal(header(FLAG_COMMAND, 5), "0405");
  assert.equal(header(0, 256), "020000000000000100");
  assert.equal(header(0, 300), "02000000000000012c");
  assert.equal(header(FLAG_MORE, 1 << 20), "030000000000100000");
  assert.equal(header(FLAG_COMMAND, 256), "060000000000000100");
  assert.equal(header(0, 2 ** 32 + 5), "020000000100000005");
  assert.equal(header(0, Number.MAX_SAFE_INTEGER), "02001fffffffffffff");
  // LONG is derived from the size, whatever the caller passes.
  assert.equal(header(FLAG_LONG | FLAG_MORE, 3), "0103");
  const b = Buffer.alloc(20, 0xee);
  assert.equal(writeFrameHeader(b, 5, 0, 300), 14);
  assert.equal(b.toString("hex"), "eeeeeeeeee02000000000000012ceeeeeeeeeeee");
});

test("encodeFrame: golden bytes for 0, 255, 256 and 300-byte bodies", () => {
  assert.deepEqual(encodeFrame(new Uint8Array(0), 0), hex("0000"));
  assert.deepEqual(encodeFrame(Buffer.from("hi"), FLAG_MORE), hex("01 02 6869"));
  assert.deepEqual(encodeFrame(Buffer.alloc(255, 1), 0), Buffer.concat([hex("00ff"), Buffer.alloc(255, 1)]));
  assert.deepEqual(encodeFrame(Buffer.alloc(256, 2), 0), Buffer.concat([hex("02 0000000000000100"), Buffer.alloc(256, 2)]));
  assert.deepEqual(encodeFrame(Buffer.alloc(300, 3), FLAG_MORE), Buffer.concat([hex("03 000000000000012c"), Buffer.alloc(300, 3)]));
  assert.deepEqual(encodeFrame(Uint8Array.of(1, 2, 3), FLAG_COMMAND), hex("04 03 010203"));
});

test("FrameBatch coalesces small frames into one chunk", () => {
  const batch = new FrameBatch();
  batch.appendMessage([Buffer.from("a"), Buffer.from("bc"), new Uint8Array(0)]);
  batch.append(Buffer.from("cmd"), FLAG_COMMAND);
  assert.equal(batch.byteLength, 3 + 4 + 2 + 5);
  const chunks = batch.take();
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0], hex("01 01 61 01 02 6263 00 00 04 03 636d64"));
  assert.equal(batch.byteLength, 0);
  assert.deepEqual(batch.take(), []);
});

test("FrameBatch hands large bodies over untouched, as chunks of their own", () => {
  const big = Buffer.alloc(10000, 7);
  const big2 = new Uint8Array(9000).fill(9); // not a Buffer: wrapped, not copied
  const batch = new FrameBatch();
  batch.appendMessage([Buffer.from("id"), big, Buffer.from("x"), big2]);
  assert.equal(batch.byteLength, 4 + 9 + 10000 + 3 + 9 + 9000);
  const chunks = batch.take();
  assert.equal(chunks.length, 4);
  assert.deepEqual(chunks[0], hex("01 02 6964 03 0000000000002710"));
  assert.equal(chunks[1], big); // same object
  assert.deepEqual(chunks[2], hex("01 01 78 02 0000000000002328"));
  assert.equal(chunks[3]!.buffer, big2.buffer);
  assert.equal(chunks[3]!.byteOffset, big2.byteOffset);
  assert.equal(chunks[3]!.length, 9000);
  assertDecodesTo(Buffer.concat(chunks), {
    events: [frame(Buffer.from("id"), true), frame(big, true), frame(Buffer.from("x"), true), frame(big2, false)],
  });
});

test("FrameBatch copyThreshold: bodies up to the threshold are copied, above it are not", () => {
  const batch = new FrameBatch(300);
  const at = Buffer.alloc(300, 1), over = Buffer.alloc(301, 2);
  batch.append(at, 0);
  batch.append(over, FLAG_COMMAND);
  const chunks = batch.take();
  assert.equal(chunks.length, 2);
  assert.equal(chunks[0]!.length, 9 + 300 + 9);
  assert.equal(chunks[1], over);
  const b0 = new FrameBatch(0);
  b0.append(new Uint8Array(0), 0);
  b0.append(Uint8Array.of(5), 0);
  const c0 = b0.take();
  assert.deepEqual(c0.map((c) => c.toString("hex")), ["00000001", "05"]);
});

test("FrameBatch reuses its scratch after take() without ever overwriting handed-out slices", () => {
  const batch = new FrameBatch();
  const taken: { chunk: Buffer; copy: Buffer }[] = [];
  let firstScratch: ArrayBufferLike | undefined;
  let sameScratch = 0;
  for (let i = 0; i < 2000; i++) {
    const n = (i * 37) % 900;
    batch.append(Buffer.alloc(n, i & 0xff), i % 2 ? FLAG_MORE : 0);
    if (i % 3 === 0) {
      for (const c of batch.take()) {
        taken.push({ chunk: c, copy: Buffer.from(c) });
        if (firstScratch === undefined) firstScratch = c.buffer;
        else if (c.buffer === firstScratch) sameScratch++;
      }
    }
  }
  for (const c of batch.take()) taken.push({ chunk: c, copy: Buffer.from(c) });
  assert.ok(sameScratch > 3, "consecutive batches share the scratch buffer");
  for (const t of taken) assert.ok(t.chunk.equals(t.copy), "a handed-out chunk was overwritten");
  // And the stream decodes back to the frames.
  const events = decodeChunks([Buffer.concat(taken.map((t) => t.chunk))]).events;
  assert.equal(events.length, 2000);
  for (let i = 0; i < 2000; i++) assert.deepStrictEqual(events[i], frame(Buffer.alloc((i * 37) % 900, i & 0xff), i % 2 === 1));
});

test("FrameBatch: a batch bigger than the scratch is closed into chunks, in order, whole frames each", () => {
  const batch = new FrameBatch();
  const frames = Array.from({ length: 100 }, (_, i) => Buffer.alloc(1000, i));
  batch.appendMessage(frames);
  const chunks = batch.take();
  // Scratches of 16, 32, 64, 64 KiB: the open region is never moved, so the batch spans several.
  assert.ok(chunks.length > 1, `${chunks.length} chunk(s)`);
  for (const c of chunks) assert.equal(c.length % 1009, 0, "a frame split across chunks");
  assert.equal(chunks.reduce((n, c) => n + c.length, 0), 100 * 1009);
  assertDecodesTo(Buffer.concat(chunks), { events: frames.map((f, i) => frame(f, i < 99)) }, { seed: 3 });
});

test("FrameBatch: full scratches come back through takeRetired/recycle and are reused, never while unwritten", () => {
  const batch = new FrameBatch();
  const body = (i: number) => Buffer.alloc(4000, i & 0xff);
  // Fill well past the first scratches (16 + 32 + 64 KiB), then take: those are retired.
  for (let i = 0; i < 40; i++) batch.append(body(i), 0);
  const first = batch.take();
  const retired = batch.takeRetired();
  assert.ok(retired !== null && retired.length >= 2, "filled scratches are retired");
  assert.equal(batch.takeRetired(), null, "handed out once");
  const firstCopy = Buffer.concat(first);
  // Not recycled yet (the write has not completed): more frames must not land in them.
  for (let i = 40; i < 80; i++) batch.append(body(i), 0);
  const second = batch.take();
  assert.ok(Buffer.concat(first).equals(firstCopy), "a retired scratch was written before it was recycled");
  const secondCopy = Buffer.concat(second);
  const retired2 = batch.takeRetired() ?? [];
  // The writer is done with everything so far: give the scratches back; the next ones are reused.
  batch.recycle([...retired, ...retired2]);
  const reusable = new Set([...retired, ...retired2].filter((b) => b.length === 64 * 1024).map((b) => b.buffer));
  for (let i = 80; i < 160; i++) batch.append(body(i), 0);
  const third = batch.take();
  assert.ok(third.some((c) => reusable.has(c.buffer)), "a recycled scratch was filled again");
  // What was "written" (copied out before recycling) and the new batch decode to the frames in order.
  const events = decodeChunks([Buffer.concat([firstCopy, secondCopy, ...third])]).events;
  assert.equal(events.length, 160);
  for (let i = 0; i < 160; i++) assert.deepStrictEqual(events[i], frame(body(i), false));
});

test("FrameBatch: appendMessage of one frame has no MORE; of none appends nothing", () => {
  const batch = new FrameBatch();
  batch.appendMessage([]);
  assert.equal(batch.byteLength, 0);
  batch.appendMessage([Buffer.from("z")]);
  assert.deepEqual(Buffer.concat(batch.take()), hex("00 01 7a"));
  assert.deepStrictEqual(decodeChunks([encodeFrame(Buffer.from("c"), FLAG_COMMAND)]).events, [command(Buffer.from("c"))]);
});
