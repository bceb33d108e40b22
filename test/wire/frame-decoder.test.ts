import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { FrameDecoder, FLAG_COMMAND, FLAG_LONG, FLAG_MORE, type FrameSink } from "../../src/wire/frame-decoder.js";
import { encodeFrame } from "../../src/wire/frame-encoder.js";
import { WireError } from "../../src/wire/errors.js";
import { assertDecodesTo, assertWireError, command, decodeChunks, feedings, frame, hex, RecordingSink, rng } from "./helpers.js";

function pattern(n: number, seed = n): Buffer {
  const b = Buffer.allocUnsafe(n);
  const r = rng(seed);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

test("frames of size 0, 1, 255, 256, 300, 65536 and 1 MiB decode identically however the bytes are split", () => {
  for (const size of [0, 1, 255, 256, 300, 65536, 1 << 20]) {
    const body = pattern(size);
    for (const more of size > 65536 ? [true] : [false, true]) {
      const wire = encodeFrame(body, more ? FLAG_MORE : 0);
      assert.equal(wire.length, size + (size <= 255 ? 2 : 9));
      assertDecodesTo(wire, { events: [frame(body, more)] }, { seed: size + 1 });
    }
  }
});

test("hand-written bytes: short, long and command frames in one stream", () => {
  const wire = hex(`
    01 03 616263
    00 00
    04 05 0450494e47
    02 0000000000000100 ${"ab".repeat(256)}
    03 0000000000000001 7a
    06 0000000000000101 ${"cd".repeat(257)}
    00 ff ${"ee".repeat(255)}
  `);
  assertDecodesTo(wire, {
    events: [
      frame(Buffer.from("abc"), true),
      frame(Buffer.alloc(0), false),
      command(hex("0450494e47")),
      frame(Buffer.alloc(256, 0xab), false),
      frame(Buffer.from("z"), true),
      command(Buffer.alloc(257, 0xcd)),
      frame(Buffer.alloc(255, 0xee), false),
    ],
  });
});

test("a LONG header announcing a small size is accepted", () => {
  assertDecodesTo(hex("02 0000000000000003 010203"), { events: [frame(hex("010203"))] });
});

test("reserved flag bits 7..3 are ignored on receive", () => {
  assertDecodesTo(hex("f9 01 aa f8 00 fc 01 05"), {
    events: [frame(hex("aa"), true), frame(Buffer.alloc(0), false), command(hex("05"))],
  });
});

test("a COMMAND frame with MORE is rejected (after delivering the frames before it)", () => {
  assertDecodesTo(hex("01 01 aa 00 01 bb 05 02 0141"), {
    events: [frame(hex("aa"), true), frame(hex("bb"))],
    error: "ERR_ZMTP_MALFORMED_FRAME",
  });
  // Long form and reserved bits do not hide it; it is refused on the flags byte alone.
  assertWireError(() => new FrameDecoder(new RecordingSink()).push(hex("07")), "ERR_ZMTP_MALFORMED_FRAME");
  assertWireError(() => new FrameDecoder(new RecordingSink()).push(hex("fd")), "ERR_ZMTP_MALFORMED_FRAME");
});

/** Pushes pre-built chunks into a fresh decoder while counting Buffer.allocUnsafe calls. */
function countAllocs(t: { mock: typeof mock }, chunks: Buffer[], maxFrameSize?: number): { allocs: number; error?: string; frames: number } {
  const sink = new RecordingSink();
  const dec = new FrameDecoder(sink, maxFrameSize);
  const alloc = t.mock.method(Buffer, "allocUnsafe");
  try {
    for (const c of chunks) dec.push(c);
    return { allocs: alloc.mock.callCount(), frames: sink.events.length };
  } catch (e) {
    assert.ok(e instanceof WireError, String(e));
    return { allocs: alloc.mock.callCount(), error: e.reason, frames: sink.events.length };
  } finally {
    alloc.mock.restore();
  }
}

test("a 2^63 size is rejected right after the 9-byte header, before any allocation", (t) => {
  const header = hex("02 8000000000000000");
  assertDecodesTo(Buffer.concat([header, hex("00112233")]), { events: [], error: "ERR_ZMTP_MESSAGE_TOO_LARGE" });
  // Byte by byte: the first 8 bytes are accepted, the 9th throws.
  const dec = new FrameDecoder(new RecordingSink());
  for (let i = 0; i < 8; i++) dec.push(header.subarray(i, i + 1));
  assertWireError(() => dec.push(header.subarray(8, 9)), "ERR_ZMTP_MESSAGE_TOO_LARGE", /2\^63/);
  // Highest bit set with other bits, with MORE, with COMMAND, with reserved bits: all refused, nothing allocated.
  for (const h of ["02 8000000000000000", "02 ffffffffffffffff", "03 80000000000000ff", "06 80000000000000ff", "fa 8000000000000000"]) {
    const bytes = [...hex(h)].map((b) => Buffer.from([b]));
    assert.deepEqual(countAllocs(t, bytes), { allocs: 0, error: "ERR_ZMTP_MESSAGE_TOO_LARGE", frames: 0 }, h);
    assert.deepEqual(countAllocs(t, [hex(h)]), { allocs: 0, error: "ERR_ZMTP_MESSAGE_TOO_LARGE", frames: 0 }, h);
  }
});

test("sizes that are not safe integers or not allocatable are rejected without allocating", (t) => {
  // 2^53, 2^53 - 1 (safe but beyond any Buffer), 2^62, 2^32 + 1 (beyond Node 20's buffer limit on 64-bit).
  for (const h of ["02 0020000000000000", "02 001fffffffffffff", "02 4000000000000000", "02 0000000100000001"]) {
    assertDecodesTo(Buffer.concat([hex(h), Buffer.alloc(20)]), { events: [], error: "ERR_ZMTP_MESSAGE_TOO_LARGE" });
    assert.deepEqual(countAllocs(t, [hex(h)]), { allocs: 0, error: "ERR_ZMTP_MESSAGE_TOO_LARGE", frames: 0 }, h);
  }
});

test("maxFrameSize: short and long frames over the limit are rejected after the header, at the limit accepted", (t) => {
  assertDecodesTo(hex("00 05 0102030405"), { events: [frame(hex("0102030405"))] }, { maxFrameSize: 5 });
  assertDecodesTo(hex("01 01 aa 00 06 000000000000"), { events: [frame(hex("aa"), true)], error: "ERR_ZMTP_MESSAGE_TOO_LARGE" }, { maxFrameSize: 5 });
  const dec = new FrameDecoder(new RecordingSink(), 5);
  dec.push(hex("00"));
  assertWireError(() => dec.push(hex("06")), "ERR_ZMTP_MESSAGE_TOO_LARGE", /6 bytes exceeds the limit of 5/);
  // Rejected on the header alone, with nothing allocated.
  assert.deepEqual(countAllocs(t, [hex("00"), hex("06")], 5), { allocs: 0, error: "ERR_ZMTP_MESSAGE_TOO_LARGE", frames: 0 });
  assert.deepEqual(countAllocs(t, [hex("02 00000000"), hex("000003e9")], 1000), { allocs: 0, error: "ERR_ZMTP_MESSAGE_TOO_LARGE", frames: 0 });
  assert.deepEqual(countAllocs(t, [hex("02 00000000000003e8"), Buffer.alloc(500)], 1000), { allocs: 1, frames: 0 });
  // maxFrameSize 0: only empty frames.
  assertDecodesTo(hex("00 00 04 00"), { events: [frame(Buffer.alloc(0)), command(Buffer.alloc(0))] }, { maxFrameSize: 0 });
  assertDecodesTo(hex("00 01 00"), { events: [], error: "ERR_ZMTP_MESSAGE_TOO_LARGE" }, { maxFrameSize: 0 });
  // Commands are frames too.
  assertDecodesTo(hex("04 06 0000000000"), { events: [], error: "ERR_ZMTP_MESSAGE_TOO_LARGE" }, { maxFrameSize: 5 });
  // -1 and undefined are unlimited.
  const big = Buffer.alloc(70000, 1);
  assertDecodesTo(encodeFrame(big, 0), { events: [frame(big)] }, { maxFrameSize: -1 });
  assertDecodesTo(encodeFrame(big, 0), { events: [frame(big)] }, {});
});

test("a 1 MiB body spanning chunks is allocated exactly once, at its exact size", (t) => {
  const body = pattern(1 << 20);
  const wire = encodeFrame(body, FLAG_MORE);
  const sink = new RecordingSink();
  const dec = new FrameDecoder(sink);
  const chunks: Buffer[] = [];
  for (let at = 0; at < wire.length; at += 65536) chunks.push(Buffer.from(wire.subarray(at, at + 65536)));
  const alloc = t.mock.method(Buffer, "allocUnsafe");
  for (const c of chunks) dec.push(c);
  alloc.mock.restore();
  assert.equal(alloc.mock.callCount(), 1);
  assert.deepEqual(alloc.mock.calls[0]!.arguments, [1 << 20]);
  assert.equal(sink.events.length, 1);
  const ev = sink.events[0]!;
  assert.equal(ev.kind, "frame");
  assert.ok(ev.kind === "frame" && ev.more);
  assert.ok(ev.body.equals(body));
  assert.equal(ev.body.byteOffset, 0);
  assert.equal(ev.body.length, body.length);
});

test("frames inside one chunk are views of it; frames spanning chunks are fresh buffers", () => {
  const a = encodeFrame(Buffer.from("hello"), FLAG_MORE);
  const b = encodeFrame(Buffer.from("world"), 0);
  const chunk = Buffer.concat([a, b]);
  const sink = new RecordingSink();
  const dec = new FrameDecoder(sink);
  dec.push(chunk);
  assert.equal(sink.events.length, 2);
  for (const ev of sink.events) assert.equal(ev.body.buffer, chunk.buffer);
  assert.equal(sink.events[0]!.body.byteOffset, chunk.byteOffset + 2);
  assert.equal(sink.events[1]!.body.byteOffset, chunk.byteOffset + 9);

  // Header split across chunks but the body wholly in the second chunk: still a view.
  const c1 = hex("02 00000000"), c2 = Buffer.concat([hex("00000100"), Buffer.alloc(256, 7)]);
  const sink2 = new RecordingSink();
  const dec2 = new FrameDecoder(sink2);
  dec2.push(c1);
  dec2.push(c2);
  assert.equal(sink2.events.length, 1);
  assert.equal(sink2.events[0]!.body.buffer, c2.buffer);

  // Body split across chunks: a fresh buffer owning its bytes (chunks may be reused by the caller afterwards).
  const sink3 = new RecordingSink();
  const dec3 = new FrameDecoder(sink3);
  const body = pattern(10000);
  const w = encodeFrame(body, 0);
  const p1 = Buffer.from(w.subarray(0, 5000)), p2 = Buffer.from(w.subarray(5000));
  dec3.push(p1);
  dec3.push(p2);
  const got = sink3.events[0]!.body;
  assert.ok(got.equals(body));
  assert.notEqual(got.buffer, p1.buffer);
  assert.notEqual(got.buffer, p2.buffer);
  p1.fill(0);
  p2.fill(0);
  assert.ok(got.equals(body));
});

test("pause() mid-chunk stops after the current frame, push() while paused buffers, resume() continues", () => {
  const frames = ["one", "two", "three", "four", "five"].map((s) => Buffer.from(s));
  const wire = Buffer.concat(frames.map((f, i) => encodeFrame(f, i < 4 ? FLAG_MORE : 0)));
  const first = wire.subarray(0, 12); // frames "one" and "two", then the header of "three"
  const rest = wire.subarray(12);
  const got: string[] = [];
  let dec!: FrameDecoder;
  let pauseOn = new Set(["one", "three"]);
  const sink: FrameSink = {
    onFrame(body) {
      got.push(body.toString());
      if (pauseOn.has(body.toString())) dec.pause();
    },
    onCommand() {
      assert.fail("no commands here");
    },
  };
  dec = new FrameDecoder(sink);
  assert.equal(dec.paused, false);
  dec.push(first);
  assert.deepEqual(got, ["one"]);
  assert.equal(dec.paused, true);
  dec.push(rest); // only buffered
  assert.deepEqual(got, ["one"]);
  dec.resume(); // "two" (kept bytes of the first chunk), then "three" (spans both), pauses again
  assert.deepEqual(got, ["one", "two", "three"]);
  assert.equal(dec.paused, true);
  dec.resume();
  assert.deepEqual(got, ["one", "two", "three", "four", "five"]);
  assert.equal(dec.paused, false);
  // resume() when not paused is a no-op; pause() with nothing buffered, then push + resume.
  dec.resume();
  pauseOn = new Set();
  dec.pause();
  dec.push(encodeFrame(Buffer.from("six"), 0));
  assert.equal(got.length, 5);
  dec.resume();
  assert.deepEqual(got.slice(5), ["six"]);
});

test("pausing after every frame and resuming from outside gives the same frames for every split", () => {
  const msgs: Buffer[] = [];
  const r = rng(42);
  for (let i = 0; i < 40; i++) msgs.push(pattern(Math.floor(r() * 600), i));
  const wire = Buffer.concat(msgs.map((m, i) => (i % 7 === 3 ? encodeFrame(m, FLAG_COMMAND) : encodeFrame(m, i % 3 ? FLAG_MORE : 0))));
  const expected = decodeChunks([wire]).events;
  assert.equal(expected.length, 40);
  for (const f of feedings(wire, 7)) {
    const events: unknown[] = [];
    let dec!: FrameDecoder;
    let perPush = 0;
    const sink: FrameSink = {
      onFrame(body, more) {
        events.push({ kind: "frame", more, body: Buffer.from(body) });
        perPush++;
        dec.pause();
      },
      onCommand(body) {
        events.push({ kind: "command", body: Buffer.from(body) });
        perPush++;
        dec.pause();
      },
    };
    dec = new FrameDecoder(sink);
    for (const c of f.chunks) {
      perPush = 0;
      dec.push(c);
      assert.ok(perPush <= 1, "at most one frame per push while pausing after each");
      while (dec.paused) {
        perPush = 0;
        dec.resume();
        assert.ok(perPush <= 1);
      }
    }
    assert.deepStrictEqual(events, expected, f.name);
  }
});

test("the sink may resume() or push() re-entrantly; order is preserved", () => {
  const got: string[] = [];
  let dec!: FrameDecoder;
  let injected = false;
  const sink: FrameSink = {
    onFrame(body) {
      const s = body.toString();
      got.push(s);
      if (s === "a") {
        dec.pause();
        dec.resume(); // paused and resumed within the callback: carries on
      }
      if (s === "b" && !injected) {
        injected = true;
        dec.push(encodeFrame(Buffer.from("x"), 0)); // queued behind the current chunk
      }
    },
    onCommand() {},
  };
  dec = new FrameDecoder(sink);
  dec.push(Buffer.concat([encodeFrame(Buffer.from("a"), 0), encodeFrame(Buffer.from("b"), 0), encodeFrame(Buffer.from("c"), 0)]));
  assert.deepEqual(got, ["a", "b", "c", "x"]);
});

test("after a WireError the decoder stays failed; empty chunks are ignored", () => {
  const dec = new FrameDecoder(new RecordingSink());
  dec.push(Buffer.alloc(0));
  const err = assertWireError(() => dec.push(hex("05 00")), "ERR_ZMTP_MALFORMED_FRAME");
  assert.throws(() => dec.push(hex("00 00")), (e) => e === err);
  dec.pause();
  dec.resume(); // no-op on a failed decoder
  assert.throws(() => dec.push(hex("00 00")), (e) => e === err);
  assert.ok(err instanceof WireError && err.name === "WireError");
});

test("partial headers: every cut point of a short and a long header", () => {
  const wire = Buffer.concat([encodeFrame(Buffer.from("xy"), FLAG_MORE), encodeFrame(Buffer.alloc(300, 9), FLAG_COMMAND)]);
  for (let cut = 0; cut <= wire.length; cut++) {
    for (let cut2 = cut; cut2 <= Math.min(wire.length, cut + 12); cut2++) {
      const got = decodeChunks([wire.subarray(0, cut), wire.subarray(cut, cut2), wire.subarray(cut2)]);
      assert.deepStrictEqual(got.events, [frame(Buffer.from("xy"), true), command(Buffer.alloc(300, 9))], `cuts ${cut}/${cut2}`);
    }
  }
  assert.equal(FLAG_LONG, 2);
});
